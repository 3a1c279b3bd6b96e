package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * Linux's arm64 ASID allocator (DOMAIN.md §4.3) and its invariants: an ASID is never live for two
 * mms in one generation; at rollover the mms running on each CPU keep their ASIDs (reserved), every
 * CPU owes a local full flush and pays it on its next slow-path switch before it installs a
 * new-generation ASID; no broadcast TLBI is issued; ASID 0 is never handed out.
 */
final class Arm64AsidAllocatorTest {

  @Test
  void firstGeneration_handsOutDistinctAsidsFromOne() {
    Arm64AsidAllocator allocator = new Arm64AsidAllocator(8, 2);
    Set<Long> asids = new HashSet<>();
    for (int i = 0; i < 255; i++) {
      long id = allocator.checkAndSwitch(0, Arm64AsidAllocator.NO_CONTEXT).contextId();
      assertThat(id >>> 8).isEqualTo(1); // first generation
      asids.add(allocator.asidOf(id));
    }

    assertThat(asids).hasSize(255).doesNotContain(0L);
    assertThat(allocator.rollovers()).isZero();
  }

  @Test
  void rollover_keepsRunningMmsAsids_andMarksEveryCpuForAFlush() {
    Arm64AsidAllocator allocator = new Arm64AsidAllocator(8, 2);
    long onCore1 = allocator.checkAndSwitch(1, Arm64AsidAllocator.NO_CONTEXT).contextId();
    long last = 0;
    for (int i = 0; i < 254; i++) {
      last = allocator.checkAndSwitch(0, Arm64AsidAllocator.NO_CONTEXT).contextId();
    }
    assertThat(allocator.rollovers()).isZero();

    Arm64AsidAllocator.Switch fresh = allocator.checkAndSwitch(0, Arm64AsidAllocator.NO_CONTEXT);

    assertThat(allocator.rollovers()).isEqualTo(1);
    assertThat(allocator.generation()).isEqualTo(2L << 8);
    assertThat(fresh.contextId() >>> 8).isEqualTo(2);
    assertThat(fresh.localFlush()).isTrue();
    assertThat(allocator.flushPending(0)).isFalse();
    assertThat(allocator.flushPending(1)).isTrue();
    assertThat(allocator.reservedAsid(1)).isEqualTo(onCore1);
    assertThat(allocator.reservedAsid(0)).isEqualTo(last);
    // Neither reserved ASID number is handed to the new mm.
    assertThat(allocator.asidOf(fresh.contextId()))
        .isNotIn(allocator.asidOf(onCore1), allocator.asidOf(last), 0L);

    Arm64AsidAllocator.Switch back = allocator.checkAndSwitch(1, onCore1);
    assertThat(back.contextId()).isEqualTo((2L << 8) | allocator.asidOf(onCore1));
    assertThat(back.localFlush()).isTrue();
  }

  @Test
  void currentGeneration_onAnActiveCpu_takesTheFastPath() {
    Arm64AsidAllocator allocator = new Arm64AsidAllocator(16, 4);
    long a = allocator.checkAndSwitch(0, Arm64AsidAllocator.NO_CONTEXT).contextId();
    long b = allocator.checkAndSwitch(0, Arm64AsidAllocator.NO_CONTEXT).contextId();

    Arm64AsidAllocator.Switch again = allocator.checkAndSwitch(0, a);

    assertThat(again.slowPath()).isFalse();
    assertThat(again.contextId()).isEqualTo(a);
    assertThat(allocator.activeAsid(0)).isEqualTo(a);
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void tooFewAsidsForTheCores_isRejected() {
    assertThatThrownBy(() -> new Arm64AsidAllocator(2, 3))
        .hasMessageContaining("more than the 3 cores plus one");
  }

  @Test
  void policyRollover_flushesEachCoreLocallyOnItsNextSlowSwitch_withoutBroadcast() {
    Kernel kernel =
        KernelBoot.on("arm64").cores(2).contpteTlbs().isaValues(Map.of("asidBits", 8)).boot();
    Machine machine = kernel.machine();
    Mm first = UserProcesses.anonymous(kernel, 1);
    kernel.switchTo(1, first);
    machine.access(1, UserProcesses.USER_VA, 8, AccessKind.WRITE);
    assertThat(machine.core(1).tlb("l2").occupancy()).isPositive();
    for (int i = 0; i < 255; i++) {
      kernel.switchTo(0, kernel.createMm());
    }
    assertThat(kernel.counters())
        .containsEntry("asidRollovers", 1L)
        .containsEntry("asidRolloverLocalFlushes", 1L);
    assertThat(machine.stats().instructionCounts())
        .containsEntry("TLBI VMALLE1", 1L)
        .containsEntry("DSB NSHST", 1L)
        .containsEntry("DSB NSH", 1L)
        .doesNotContainKey("TLBI VMALLE1IS");
    assertThat(machine.core(1).tlb("l2").occupancy()).isPositive(); // core 1 has not switched yet

    kernel.switchTo(1, UserProcesses.anonymous(kernel, 1));

    assertThat(machine.core(1).tlb("l2").occupancy()).isZero();
    assertThat(machine.stats().instructionCounts()).containsEntry("TLBI VMALLE1", 2L);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void mmAsid_isTheAsidNumberWithoutTheGeneration() {
    Kernel kernel =
        KernelBoot.on("arm64").cores(1).contpteTlbs().isaValues(Map.of("asidBits", 8)).boot();
    Mm mm = UserProcesses.anonymous(kernel, 1);

    kernel.switchTo(0, mm);

    assertThat(mm.asid()).isBetween(1, 255);
    assertThat(Arm64TlbPolicy.contextId(mm)).isEqualTo((1L << 8) | mm.asid());
    assertThat(kernel.machine().core(0).context().asid()).isEqualTo(mm.asid());
  }
}
