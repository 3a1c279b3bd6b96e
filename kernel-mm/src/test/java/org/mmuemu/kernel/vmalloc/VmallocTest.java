package org.mmuemu.kernel.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * vmalloc/vfree/vmap/vunmap through the kernel root on both ISAs: what gets mapped, when the pages
 * and the virtual range come back, when the lazy purge runs and what it flushes, and that the cost
 * follows the work.
 */
final class VmallocTest {
  private static final long PAGE = Vmalloc.PAGE_BYTES;

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void vmalloc_mapsEveryPageButTheGuard_andTheCoreCanStoreToIt(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long va = vmalloc.vmalloc(0, 3 * PAGE);
    assertThat(va).isNotZero();
    assertThat(Long.compareUnsigned(va, vmalloc.vmallocStartVa())).isGreaterThanOrEqualTo(0);
    for (int page = 0; page < 3; page++) {
      assertThat(vmalloc.kernelTranslate(va + page * PAGE)).isNotNegative();
    }
    assertThat(vmalloc.kernelTranslate(va + 3 * PAGE)).as("guard page").isEqualTo(-1);
    assertThat(vmalloc.findArea(va).pages()).isEqualTo(4);
    assertThat(kernel.machine().access(1, va + 2 * PAGE, 8, AccessKind.WRITE)).isTrue();
    assertThat(kernel.machine().oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void vfree_returnsPagesAtOnce_butKeepsTheRangeUntilThePurge(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long first = vmalloc.vmalloc(0, 3 * PAGE);
    long inUse = kernel.machine().memory().framesInUse();
    vmalloc.vfree(0, first);
    assertThat(kernel.machine().memory().framesInUse()).isEqualTo(inUse - 3);
    assertThat(vmalloc.vmapLazyPages()).isEqualTo(4);
    assertThat(vmalloc.kernelTranslate(first)).isEqualTo(-1);
    long second = vmalloc.vmalloc(0, 3 * PAGE);
    assertThat(second).as("lazy range not reused").isEqualTo(first + 4 * PAGE);
    assertThat(vmalloc.purgeVmapAreaLazy(0)).isTrue();
    assertThat(vmalloc.vmapLazyPages()).isZero();
    assertThat(vmalloc.vmalloc(0, 3 * PAGE)).as("reused after the purge").isEqualTo(first);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void lazyCount_aboveLazyMaxPages_purgesOnceWithOneFlush(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    assertThat(vmalloc.lazyMaxPages()).isEqualTo(2 * 8192);
    long areaPages = 101;
    long calls = vmalloc.lazyMaxPages() / areaPages + 1;
    long first = 0;
    for (long i = 0; i < calls; i++) {
      long va = vmalloc.vmalloc(0, 100 * PAGE);
      first = i == 0 ? va : first;
      vmalloc.vfree(0, va);
      if (i < calls - 1) {
        assertThat(vmalloc.counters()).containsEntry("vmapPurges", 0L);
      }
    }
    assertThat(vmalloc.counters())
        .containsEntry("vmapPurges", 1L)
        .containsEntry("vmapPurgedAreas", calls)
        .containsEntry("vmapKernelRangeFlushes", 1L)
        .containsEntry("vmapLazyPagesHighWater", calls * areaPages);
    assertThat(vmalloc.vmapLazyPages()).isZero();
    assertThat(vmalloc.vmalloc(0, 100 * PAGE)).isEqualTo(first);
    assertThat(kernel.machine().stats().latencies()).containsKey("flush_tlb_kernel_range");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void purge_removesTheStaleTranslationOtherCoresCached(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Machine machine = kernel.machine();
    long va = vmalloc.vmalloc(0, PAGE);
    machine.actOn(1);
    machine.access(1, va, 8, AccessKind.READ);
    machine.actOn(0);
    vmalloc.vfree(0, va);
    assertThat(machine.core(1).tlb("l2").probe(va, 0)).as("lazy: still cached").isNotNegative();
    vmalloc.purgeVmapAreaLazy(0);
    assertThat(machine.core(1).tlb("l2").probe(va, 0)).isNegative();
    assertThat(machine.core(1).tlb("l1d").probe(va, 0)).isNegative();
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void vmap_mapsCallerFrames_andVunmapLeavesThemAllocated(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long[] pfns = {
      kernel.machine().memory().allocate(FrameKind.KERNEL),
      kernel.machine().memory().allocate(FrameKind.KERNEL)
    };
    long va = vmalloc.vmap(0, pfns, 2);
    assertThat(vmalloc.kernelTranslate(va + PAGE)).isEqualTo(pfns[1] << 12);
    vmalloc.vunmap(0, va);
    assertThat(vmalloc.kernelTranslate(va)).isEqualTo(-1);
    assertThat(kernel.machine().memory().isAllocated(pfns[0])).isTrue();
    assertThat(vmalloc.vmapLazyPages()).isEqualTo(3);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void cost_growsWithThePagesMapped(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Machine machine = kernel.machine();
    vmalloc.vmalloc(0, PAGE); // the first call allocates the tables
    long t0 = machine.now(0);
    vmalloc.vmalloc(0, PAGE);
    long onePage = machine.now(0) - t0;
    long t1 = machine.now(0);
    vmalloc.vmalloc(0, 64 * PAGE);
    long manyPages = machine.now(0) - t1;
    long perPage =
        kernel.config().costs().pageAllocCycles() + kernel.config().costs().pteWriteCycles();
    assertThat(manyPages - onePage).isGreaterThanOrEqualTo(63 * perPage);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void secondCore_callingDuringTheFirstsHold_waitsForItsRelease_notForTheWholeCall(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Machine machine = kernel.machine();
    machine.clocks().waitUntil(0, 1_000_000);
    machine.clocks().waitUntil(1, 1_000_000);
    long[] callEnd = new long[2];
    machine.run(
        new org.mmuemu.core.time.CoreProgram[] {
          core -> {
            vmalloc.vmalloc(core, 32 * PAGE);
            callEnd[core] = machine.now(core);
            return false;
          },
          core -> {
            vmalloc.vmalloc(core, PAGE);
            callEnd[core] = machine.now(core);
            return false;
          }
        },
        () -> false);

    long waited = (Long) vmalloc.counters().get("vmapLockWaitCycles");
    assertThat(waited).as("core 1 asked while core 0 held free_vmap_area_lock").isPositive();
    assertThat(waited)
        .as("it waited for that hold, not for core 0's whole call")
        .isLessThan((callEnd[0] - 1_000_000) / 4);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void exhaustedRange_isPurgedAndRetriedOnce(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long vstart = vmalloc.vmallocStartVa() + (1L << 30);
    long vend = vstart + 8 * PAGE;
    VmapArea a = vmalloc.allocVmapArea(0, 4 * PAGE, PAGE, vstart, vend, 0);
    VmapArea b = vmalloc.allocVmapArea(0, 4 * PAGE, PAGE, vstart, vend, 0);
    assertThat(b.vaStart()).isEqualTo(vstart + 4 * PAGE);
    vmalloc.vunmap(0, a.vaStart());
    VmapArea c = vmalloc.allocVmapArea(0, 4 * PAGE, PAGE, vstart, vend, 0);
    assertThat(c.vaStart()).isEqualTo(vstart);
    assertThat(vmalloc.counters()).containsEntry("vmapAllocRetriesAfterPurge", 1L);
    assertThat(vmalloc.allocVmapArea(0, 4 * PAGE, PAGE, vstart, vend, 0)).isNull();
  }

  @org.junit.jupiter.api.Test
  void x86ProcessRoot_sharesTheKernelHalf_soVmallocAddressesTranslateUnderAnyMm() {
    Kernel kernel = KernelBoot.on("x86").cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Mm before = kernel.createMm();
    long va = vmalloc.vmalloc(0, PAGE);
    Mm after = kernel.createMm();
    kernel.switchTo(0, before);
    kernel.switchTo(1, after);
    assertThat(kernel.machine().access(0, va, 8, AccessKind.WRITE)).isTrue();
    kernel.machine().actOn(1);
    assertThat(kernel.machine().access(1, va, 8, AccessKind.WRITE)).isTrue();
    assertThat(kernel.machine().unresolvedFaults()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64"})
  void barrierBatching_syncsOncePerTableInsteadOfPerEntry(String isa) {
    long[] syncs = new long[2];
    String[] variants = {"off", "on"};
    for (int i = 0; i < 2; i++) {
      Kernel kernel =
          KernelBoot.on(isa)
              .cores(1)
              .variants(java.util.Map.of("lazyMmuBarrierBatching", variants[i]))
              .memoryBytes(256L << 20)
              .kernelThreads()
              .boot();
      Vmalloc vmalloc = kernel.vmalloc();
      long va = vmalloc.vmalloc(0, 600 * PAGE); // 600 entries over two page-table pages
      assertThat(vmalloc.kernelTranslate(va + 599 * PAGE)).isNotNegative();
      syncs[i] = (Long) vmalloc.counters().get("vmapPteSyncs");
    }
    assertThat(syncs[0]).isEqualTo(600);
    assertThat(syncs[1]).isEqualTo(2);
  }

  /**
   * On arm64 each sync is a DSB ISHST + ISB pair, so batching removes 598 of 600 pairs (and their
   * cycles).
   */
  @org.junit.jupiter.api.Test
  void barrierBatching_onArm64_issuesOneBarrierPairPerSync() {
    long[] pairs = new long[2];
    long[] cycles = new long[2];
    String[] variants = {"off", "on"};
    for (int i = 0; i < 2; i++) {
      Kernel kernel =
          KernelBoot.on("arm64")
              .cores(1)
              .variants(java.util.Map.of("lazyMmuBarrierBatching", variants[i]))
              .memoryBytes(256L << 20)
              .kernelThreads()
              .boot();
      long before = kernel.machine().stats().instructionCounts().getOrDefault("ISB", 0L);
      long start = kernel.machine().now(0);
      kernel.vmalloc().vmalloc(0, 600 * PAGE);
      cycles[i] = kernel.machine().now(0) - start;
      pairs[i] = kernel.machine().stats().instructionCounts().getOrDefault("ISB", 0L) - before;
    }
    assertThat(pairs[0]).isEqualTo(600);
    assertThat(pairs[1]).isEqualTo(2);
    assertThat(cycles[1]).isLessThan(cycles[0]);
  }
}
