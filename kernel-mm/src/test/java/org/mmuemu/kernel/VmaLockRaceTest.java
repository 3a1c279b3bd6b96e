package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.core.time.SchedulePolicy;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * {@code lock_vma_under_rcu}'s retry (DOMAIN-FAULTS.md §1.3 step 7) in a scheduled run: a fault
 * finds its VMA in the tree and stops before the VMA lock's trylock (point {@code lock:vma_lock});
 * there another CPU unmaps the range and maps a new VMA over it. The fault then gets the old VMA's
 * lock (its write section ended), finds it detached ({@code vmaLockMiss}), looks again, finds the
 * new VMA without an {@code anon_vma} ({@code vmaLockAbort}) and falls back to {@code mmap_lock},
 * which maps the page in the new VMA. No VL check fires.
 */
final class VmaLockRaceTest {
  private static final long VA = 0x20_0000_0000L;

  @Test
  void vmaDetachedBetweenLookupAndLock_countsAMissAndLooksAgain() {
    Kernel kernel = KernelBoot.on("arm64").cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(VA, VA + 2 * 4096, PteFlags.WRITE, "old"));
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
    assertThat(machine.access(0, VA, 8, AccessKind.WRITE)).isTrue(); // gives "old" its anon_vma

    Vma replacement = new Vma(VA, VA + 2 * 4096, PteFlags.WRITE, "new");
    CoreProgram faulter =
        core -> {
          machine.access(core, VA + 4096, 8, AccessKind.WRITE);
          return false;
        };
    CoreProgram remapper =
        core -> {
          kernel.munmap(core, mm, VA, VA + 2 * 4096);
          kernel.mmap(core, mm, replacement);
          return false;
        };
    boolean[] switched = {false};
    SchedulePolicy remapAtTheTrylock =
        choice -> {
          if (!switched[0] && choice.stopped() == 0 && choice.point().equals("lock:vma_lock")) {
            switched[0] = true;
          }
          if (switched[0] && choice.canRun(1)) {
            return 1;
          }
          return choice.canRun(0) ? 0 : 1;
        };
    machine.setSchedulePolicy(remapAtTheTrylock);
    machine.run(new CoreProgram[] {faulter, remapper}, () -> false);

    assertThat(switched[0]).isTrue();
    assertThat(kernel.counters())
        .containsEntry("vmaLockMiss", 1L)
        .containsEntry("vmaLockAbort", 2L) // the set-up's first fault and the retry's
        .containsEntry("vmaLockSuccess", 0L);
    assertThat(mm.vmaLock(replacement).hasAnonVma()).isTrue();
    assertThat(kernel.tables().leafDescriptor(mm.rootPfn(), VA + 4096)).isNotZero();
    assertThat(machine.oracle().total()).isZero();
  }
}
