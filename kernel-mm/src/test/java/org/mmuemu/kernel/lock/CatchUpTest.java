package org.mmuemu.kernel.lock;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.FrameHistory;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Time stays causal where a core's clock jumps inside one segment (issue 12): a core that waits for
 * a lock released in a stretch that ran ahead of it, and a fault whose PTE write follows a page's
 * allocation and zeroing, both let every earlier core run up to their time first. A third core that
 * only counts cycles records, in host order, what it saw; nothing it records may be at a time after
 * an effect it was already shown.
 */
final class CatchUpTest {
  private static final long HOLD_CYCLES = 5_000;
  private static final long STEP_CYCLES = 100;
  private static final long VA = 0x20_0000_0000L;
  // The PTE write's own cost and the reader's step: the mapping is stamped after the write.
  private static final long PTE_WRITE_SLACK_CYCLES = 50;

  private record Seen(int core, long cycle, String what) {}

  @Test
  void lockWaitForAReleaseAhead_letsEarlierCoresRunFirst() {
    Kernel kernel = KernelBoot.on("arm64").cores(3).boot();
    Machine machine = kernel.machine();
    SimLock lock = new SimLock("test_lock");
    List<Seen> seen = new ArrayList<>();
    CoreProgram holder =
        core -> {
          startAt(machine, core, 0);
          lock.acquire(machine, core, 10);
          machine.charge(core, HOLD_CYCLES); // released in a stretch ahead of the others
          lock.release(machine, core);
          return false;
        };
    CoreProgram waiter =
        core -> {
          startAt(machine, core, 20);
          lock.acquire(machine, core, 10); // waits until the holder's release
          seen.add(new Seen(core, machine.now(core), "acquired"));
          lock.release(machine, core);
          return false;
        };
    CoreProgram ticker = ticker(machine, seen);
    machine.run(new CoreProgram[] {holder, waiter, ticker}, () -> false);

    assertHostOrderFollowsTime(seen);
    assertThat(seen).anyMatch(s -> s.core() == 1);
    assertThat(seen.stream().filter(s -> s.core() == 1).findFirst().orElseThrow().cycle())
        .isGreaterThanOrEqualTo(1_000_000 + HOLD_CYCLES);
  }

  @Test
  void rwsemWriteWaitForAReleaseAhead_letsEarlierCoresRunFirst() {
    Kernel kernel = KernelBoot.on("x86").cores(3).boot();
    Machine machine = kernel.machine();
    RwSemaphore sem = new RwSemaphore("test_sem", "testSem");
    List<Seen> seen = new ArrayList<>();
    CoreProgram reader =
        core -> {
          startAt(machine, core, 0);
          sem.downRead(machine, core, 10);
          machine.charge(core, HOLD_CYCLES);
          sem.upRead(machine, core);
          return false;
        };
    CoreProgram writer =
        core -> {
          startAt(machine, core, 20);
          sem.downWrite(machine, core, 10);
          seen.add(new Seen(core, machine.now(core), "acquired"));
          sem.upWrite(machine, core);
          return false;
        };
    machine.run(new CoreProgram[] {reader, writer, ticker(machine, seen)}, () -> false);

    assertHostOrderFollowsTime(seen);
    assertThat(kernel.counters()).containsEntry("testSemContended", 1L);
  }

  @Test
  void faultsPteWriteAfterItsZeroing_isNotSeenBeforeItsTime() {
    Kernel kernel = KernelBoot.on("x86").cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(VA, VA + 4096, PteFlags.WRITE, "anon"));
    kernel.switchTo(0, mm);
    long[] faultedAt = {-1, -1};
    CoreProgram faulter =
        core -> {
          startAt(machine, core, 0);
          faultedAt[0] = machine.now(core);
          machine.access(core, VA, 8, AccessKind.WRITE); // allocates and zeroes, then maps
          faultedAt[1] = machine.now(core);
          return false;
        };
    List<Long> sawMappingAt = new ArrayList<>();
    CoreProgram reader =
        core -> {
          startAt(machine, core, 20);
          machine.charge(core, 10);
          if (kernel.tables().leafDescriptor(mm.rootPfn(), VA) != 0) {
            sawMappingAt.add(machine.now(core));
          }
          return machine.now(core) < 1_000_000 + HOLD_CYCLES;
        };
    machine.run(new CoreProgram[] {faulter, reader}, () -> false);

    long descriptor = kernel.tables().leafDescriptor(mm.rootPfn(), VA);
    long pfn = machine.format().outputPa(descriptor, machine.format().levels() - 1) >>> 12;
    long[] mapped = machine.history().lastEvent(pfn, FrameHistory.FrameEvent.MAPPED, VA);
    assertThat(mapped).isNotNull();
    assertThat(sawMappingAt).isNotEmpty();
    assertThat(sawMappingAt.get(0))
        .as("fault from %d to %d, PTE written at %d", faultedAt[0], faultedAt[1], mapped[0])
        .isGreaterThanOrEqualTo(mapped[0] - PTE_WRITE_SLACK_CYCLES);
  }

  // A core that only spends cycles, recording its clock at every step until well past the hold.
  private static CoreProgram ticker(Machine machine, List<Seen> seen) {
    return core -> {
      startAt(machine, core, 30);
      machine.charge(core, STEP_CYCLES);
      seen.add(new Seen(core, machine.now(core), "tick"));
      return machine.now(core) < 1_000_000 + 2 * HOLD_CYCLES;
    };
  }

  // Boot charged core 0; every core starts its first step at a common time plus its offset.
  private static void startAt(Machine machine, int core, long offsetCycles) {
    long base = 1_000_000;
    if (machine.now(core) < base + offsetCycles) {
      machine.clocks().waitUntil(core, base + offsetCycles);
    }
  }

  // Once a core was recorded at cycle t, no core is recorded after it, in host order, before t.
  private static void assertHostOrderFollowsTime(List<Seen> seen) {
    long latest = 0;
    Seen latestSeen = null;
    for (Seen s : seen) {
      assertThat(s.cycle())
          .as("%s recorded after %s", s, latestSeen)
          .isGreaterThanOrEqualTo(latest - STEP_CYCLES);
      if (s.cycle() > latest) {
        latest = s.cycle();
        latestSeen = s;
      }
    }
  }
}
