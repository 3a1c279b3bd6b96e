package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.arch.arm64.Arm64Kernels.USER_VA;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;

/**
 * The 2017 arm64 fullmm bug replayed (DOMAIN.md §3.6): a victim thread keeps running on CPU 1
 * with a TLB entry for X while the OOM reaper on CPU 0 unmaps and frees X's page, which another
 * process then reuses. With the whole-space gather (fullmm) arm64 skips the flush, so the
 * victim's next store goes through the stale entry into a reused frame (STALE_TLB_USE); with
 * the per-VMA gather (the fix, the default) the range is flushed before the free and the store
 * faults instead.
 */
final class Arm64OomReaperTest {

  private static Kernel replay(String variant) {
    Kernel kernel = Arm64Kernels.boot(2, Map.of(), Map.of("oomReaperGather", variant));
    Machine machine = kernel.machine();
    Mm victim = Arm64Kernels.process(kernel, 4);
    kernel.switchTo(1, victim);
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);

    machine.actOn(0);
    new Arm64OomReaper(kernel, Arm64Kernels.policy(kernel)).reap(0, victim);
    Mm other = Arm64Kernels.process(kernel, 4);
    kernel.switchTo(0, other);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);

    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    return kernel;
  }

  @Test
  void fullmmGather_skipsTheFlush_andTheLiveVictimWritesAReusedFrame() {
    Kernel kernel = replay("fullmm");

    assertThat(kernel.machine().oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertThat(kernel.counters()).containsEntry("tlbFlushFullmmElided", 1L).containsEntry("oomReapedPages", 1L);
    assertThat(kernel.machine().stats().instructionCounts()).doesNotContainKeys("TLBI VALE1IS", "TLBI ASIDE1IS");
  }

  @Test
  void perVmaGather_flushesBeforeFreeing_andTheVictimFaultsInstead() {
    Kernel kernel = replay("perVma");

    assertThat(kernel.machine().oracle().total()).isZero();
    assertThat(kernel.machine().stats().instructionCounts()).containsEntry("TLBI VALE1IS", 4L)
        .containsEntry("DSB ISH", 1L);
    assertThat(kernel.counters()).containsEntry("pageFaults", 3L).doesNotContainKey("tlbFlushFullmmElided");
  }
}
