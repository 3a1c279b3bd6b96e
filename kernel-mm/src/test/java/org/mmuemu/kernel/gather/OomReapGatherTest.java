package org.mmuemu.kernel.gather;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * The OOM reaper through the kernel's mmu_gather (DOMAIN.md §3.6): a whole-space fullmm gather on a
 * live mm lets arm64 skip the flush, so a victim thread reaches a reused frame; x86's generic
 * tlb_flush flushes the mm for fullmm, so the same variant is harmless there; the per-VMA gather is
 * safe on both.
 */
final class OomReapGatherTest {

  private static Kernel replay(String isa, String variant) {
    Kernel kernel = KernelBoot.on(isa).cores(2).variants(Map.of("oomReaperGather", variant)).boot();
    Machine machine = kernel.machine();
    Mm victim = UserProcesses.anonymous(kernel, 4);
    kernel.switchTo(1, victim);
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    machine.actOn(0);
    kernel.oomReap(0, victim);
    Mm other = UserProcesses.anonymous(kernel, 4);
    kernel.switchTo(0, other);
    machine.access(0, USER_VA, 8, AccessKind.WRITE); // reuses the reaped frame
    machine.actOn(1);
    machine.clocks().waitUntil(1, machine.now(0)); // the victim stores after the reuse
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    return kernel;
  }

  @Test
  void arm64FullmmReap_skipsTheFlush_andTheVictimWritesAReusedFrame() {
    Kernel kernel = replay("arm64", "fullmm");

    assertThat(kernel.machine().oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertThat(kernel.counters())
        .containsEntry("tlbFlushFullmmElided", 1L)
        .containsEntry("oomReapedPages", 1L);
  }

  @Test
  void arm64PerVmaReap_flushesTheReapedPageFirst() {
    Kernel kernel = replay("arm64", "perVma");

    assertThat(kernel.machine().oracle().total()).isZero();
    assertThat(kernel.machine().stats().instructionCounts()).containsEntry("TLBI VALE1IS", 1L);
    assertThat(kernel.counters()).containsEntry("pageFaults", 3L);
  }

  @Test
  void x86FullmmReap_flushesTheWholeMm_soNothingIsStale() {
    Kernel kernel = replay("x86", "fullmm");

    assertThat(kernel.machine().oracle().total()).isZero();
    assertThat(kernel.machine().stats().latencies())
        .containsKey("flush_tlb_mm")
        .containsKey("oom_reap");
  }
}
