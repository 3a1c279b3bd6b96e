package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * Linux's arm64 flush functions (DOMAIN.md §4.2), by the instructions each issues: the barrier
 * template around the TLBIs, the per-page loop up to MAX_TLBI_OPS and the ASID-wide flush at it,
 * the range-op decomposition with FEAT_TLBIRANGE (and that it removes exactly the range on every
 * core), the kernel-range forms with their ISB, and the latency recorded per function.
 */
final class Arm64FlushPolicyTest {
  private static Map<String, Long> counts(Kernel kernel) {
    return kernel.machine().stats().instructionCounts();
  }

  private static Kernel running(int cores, Map<String, Object> isaKeys, Mm[] out, long pages) {
    Kernel kernel = KernelBoot.on("arm64").cores(cores).contpteTlbs().isaValues(isaKeys).boot();
    Mm mm = UserProcesses.anonymous(kernel, pages);
    for (int core = 0; core < cores; core++) {
      kernel.switchTo(core, mm);
    }
    out[0] = mm;
    return kernel;
  }

  private static Map<String, Long> flushRange(
      Map<String, Object> isaKeys, long pages, int strideShift, boolean lastLevel) {
    Mm[] mm = new Mm[1];
    Kernel kernel = running(2, isaKeys, mm, 1);
    Map<String, Long> before = counts(kernel);
    ((Arm64TlbPolicy) kernel.tlbPolicy())
        .flushTlbRange(0, mm[0], USER_VA, USER_VA + (pages << 12), strideShift, lastLevel);
    Map<String, Long> after = new java.util.TreeMap<>(counts(kernel));
    before.forEach((name, count) -> after.merge(name, -count, Long::sum));
    after.values().removeIf(count -> count == 0);
    return after;
  }

  @Test
  void flushTlbMm_isAsidFlushBetweenDsbIshstAndDsbIsh() {
    Mm[] mm = new Mm[1];
    Kernel kernel = running(2, Map.of(), mm, 1);
    long isb = counts(kernel).getOrDefault("ISB", 0L);

    ((Arm64TlbPolicy) kernel.tlbPolicy()).flushTlbMm(0, mm[0]);

    assertThat(counts(kernel))
        .containsEntry("DSB ISHST", 1L)
        .containsEntry("TLBI ASIDE1IS", 1L)
        .containsEntry("DSB ISH", 1L)
        .containsEntry("ISB", isb);
    assertThat(kernel.machine().stats().latencies().get("flush_tlb_mm").count()).isEqualTo(1);
  }

  @Test
  void flushTlbPage_isOneLeafTlbi() {
    Mm[] mm = new Mm[1];
    Kernel kernel = running(2, Map.of(), mm, 1);

    ((Arm64TlbPolicy) kernel.tlbPolicy()).flushTlbPage(0, mm[0], USER_VA + 0x123);

    assertThat(counts(kernel)).containsEntry("TLBI VALE1IS", 1L).containsEntry("DSB ISH", 1L);
    assertThat(kernel.machine().stats().latencies()).containsKey("flush_tlb_page");
  }

  @Test
  void rangeWithoutRangeOps_isOneTlbiPerPage_belowMaxTlbiOps() {
    assertThat(flushRange(Map.of(), 16, 12, true))
        .containsExactly(
            Map.entry("DSB ISH", 1L), Map.entry("DSB ISHST", 1L), Map.entry("TLBI VALE1IS", 16L));
    assertThat(flushRange(Map.of(), 511, 12, true)).containsEntry("TLBI VALE1IS", 511L);
    assertThat(flushRange(Map.of(), 3, 12, false)).containsEntry("TLBI VAE1IS", 3L);
  }

  @Test
  void rangeWithoutRangeOps_atMaxTlbiOps_becomesAnAsidFlush() {
    assertThat(flushRange(Map.of(), 512, 12, true))
        .containsExactly(
            Map.entry("DSB ISH", 1L), Map.entry("DSB ISHST", 1L), Map.entry("TLBI ASIDE1IS", 1L));
  }

  @Test
  void rangeWithoutRangeOps_countsStrides_notPages() {
    assertThat(flushRange(Map.of(), 3 * 512, 21, true)).containsEntry("TLBI VALE1IS", 3L);
    assertThat(flushRange(Map.of(), 512L * 512, 21, true)).containsEntry("TLBI ASIDE1IS", 1L);
  }

  @Test
  void rangeWithRangeOps_decomposesByScaleFromThreeDown() {
    Map<String, Object> range = Map.of("tlbiRange", true);

    assertThat(flushRange(range, 16, 12, true))
        .containsEntry("TLBI RVALE1IS", 1L)
        .doesNotContainKey("TLBI VALE1IS");
    assertThat(flushRange(range, 17, 12, true))
        .containsEntry("TLBI RVALE1IS", 1L)
        .containsEntry("TLBI VALE1IS", 1L);
    assertThat(flushRange(range, 1, 12, true))
        .containsEntry("TLBI VALE1IS", 1L)
        .doesNotContainKey("TLBI RVALE1IS");
    // 512 pages: SCALE 1, NUM 7 -> one op; ranges above MAX_TLBI_OPS stay ranged.
    assertThat(flushRange(range, 512, 12, true)).containsEntry("TLBI RVALE1IS", 1L);
    // 100001 = 3*2^15 (scale 3) + 1*2^10 (scale 2) + 21*2^5 ... at most one op per scale plus one
    // page.
    assertThat(flushRange(range, 100_001, 12, false).get("TLBI RVAE1IS")).isBetween(1L, 4L);
    assertThat(flushRange(range, 100_001, 12, false)).containsEntry("TLBI VAE1IS", 1L);
  }

  @Test
  void rangeWithRangeOps_aboveMaxTlbiRangePages_becomesAnAsidFlush() {
    assertThat(
            flushRange(
                Map.of("tlbiRange", true), Arm64TlbPolicy.MAX_TLBI_RANGE_PAGES + 2, 12, true))
        .containsEntry("TLBI ASIDE1IS", 1L)
        .doesNotContainKey("TLBI RVALE1IS");
  }

  @Test
  void rangeNum_matchesTheLinuxMacro() {
    assertThat(Arm64TlbPolicy.rangeNum(1, 0)).isEqualTo(-1);
    assertThat(Arm64TlbPolicy.rangeNum(2, 0)).isZero();
    assertThat(Arm64TlbPolicy.rangeNum(64, 0)).isEqualTo(31);
    assertThat(Arm64TlbPolicy.rangeNum(1000, 0)).isEqualTo(31); // capped at 32 units
    assertThat(Arm64TlbPolicy.rangeNum(1000, 1)).isEqualTo(14); // 15 units of 64 pages
    assertThat(Arm64TlbPolicy.rangePages(31, 3)).isEqualTo(Arm64TlbPolicy.MAX_TLBI_RANGE_PAGES);
  }

  @Test
  void rangeOps_removeExactlyTheRange_onEveryCore() {
    Mm[] holder = new Mm[1];
    Kernel kernel = running(2, Map.of("tlbiRange", true), holder, 40);
    Machine machine = kernel.machine();
    for (int page = 0; page < 40; page++) {
      machine.access(1, USER_VA + page * 4096L, 8, AccessKind.WRITE);
    }
    int asid = holder[0].asid();

    ((Arm64TlbPolicy) kernel.tlbPolicy())
        .flushTlbRange(0, holder[0], USER_VA + 4096, USER_VA + 38 * 4096L, 12, true);

    for (int page = 0; page < 40; page++) {
      boolean kept = machine.core(1).tlb("l2").probe(USER_VA + page * 4096L, asid) >= 0;
      assertThat(kept).as("page %d", page).isEqualTo(page == 0 || page >= 38);
    }
  }

  @Test
  void kernelRange_isVaale1isPerPageWithIsb_orEverythingAboveTheLimit() {
    Kernel kernel = KernelBoot.on("arm64").cores(2).contpteTlbs().boot();
    Arm64TlbPolicy policy = ((Arm64TlbPolicy) kernel.tlbPolicy());
    long kernelVa = 0xFFFF_8000_1000_0000L;

    policy.flushTlbKernelRange(0, kernelVa, kernelVa + 4 * 4096);
    assertThat(counts(kernel))
        .containsExactly(
            Map.entry("DSB ISH", 1L),
            Map.entry("DSB ISHST", 1L),
            Map.entry("ISB", 1L),
            Map.entry("TLBI VAALE1IS", 4L));

    policy.flushTlbKernelRange(0, kernelVa, kernelVa + 512 * 4096L);
    assertThat(counts(kernel))
        .containsEntry("TLBI VMALLE1IS", 1L)
        .containsEntry("TLBI VAALE1IS", 4L);
    assertThat(kernel.machine().stats().latencies().get("flush_tlb_kernel_range").count())
        .isEqualTo(2);
  }

  @Test
  void kernelRange_withRangeOps_isOneRvaale1is() {
    Kernel kernel =
        KernelBoot.on("arm64").cores(2).contpteTlbs().isaValues(Map.of("tlbiRange", true)).boot();

    ((Arm64TlbPolicy) kernel.tlbPolicy())
        .flushTlbKernelRange(0, 0xFFFF_8000_1000_0000L, 0xFFFF_8000_1000_0000L + 64 * 4096L);

    assertThat(counts(kernel)).containsEntry("TLBI RVAALE1IS", 1L).containsEntry("ISB", 1L);
  }

  @Test
  void kernelPgtable_isOneAllLevelAllAsidTlbi() {
    Kernel kernel = KernelBoot.on("arm64").cores(2).contpteTlbs().boot();

    ((Arm64TlbPolicy) kernel.tlbPolicy()).flushTlbKernelPgtable(0, 0xFFFF_8000_1020_0000L);

    assertThat(counts(kernel))
        .containsExactly(
            Map.entry("DSB ISH", 1L),
            Map.entry("DSB ISHST", 1L),
            Map.entry("ISB", 1L),
            Map.entry("TLBI VAAE1IS", 1L));
    assertThat(kernel.machine().stats().latencies()).containsKey("__flush_tlb_kernel_pgtable");
  }

  @Test
  void rangeFlushLatency_growsWithTheNumberOfCores() {
    long[] latency = new long[2];
    int[] cores = {2, 16};
    for (int i = 0; i < 2; i++) {
      Mm[] mm = new Mm[1];
      Kernel kernel = running(cores[i], Map.of(), mm, 1);
      long start = kernel.machine().now(0);
      ((Arm64TlbPolicy) kernel.tlbPolicy())
          .flushTlbRange(0, mm[0], USER_VA, USER_VA + 8 * 4096, 12, true);
      latency[i] = kernel.machine().now(0) - start;
    }

    // broadcastCompletionPerCoreCycles (default 150) per extra core
    assertThat(latency[1] - latency[0]).isEqualTo(14 * 150);
  }
}
