package org.mmuemu.kernel.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Huge vmap: a 2 MiB vmalloc_huge is one PMD block, and a block that lands where small mappings
 * left a (now empty) table first unhooks the table, flushes it from every walk cache and frees it,
 * so no core walks the freed table afterwards.
 */
final class HugeVmapTest {
  private static final long PMD = 2L << 20;

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void vmallocHuge_twoMiB_isOneBlockAlignedToIt(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long va = vmalloc.vmallocHuge(0, PMD);
    assertThat(va & (PMD - 1)).isZero();
    long pa = vmalloc.kernelTranslate(va);
    assertThat(vmalloc.kernelTranslate(va + PMD - 4096)).isEqualTo(pa + PMD - 4096);
    assertThat(vmalloc.counters()).containsEntry("vmapHugeBlocksMapped", 1L);
    assertThat(vmalloc.findArea(va).leafShift()).isEqualTo(21);
    assertThat(kernel.machine().access(1, va + 12345, 8, AccessKind.WRITE)).isTrue();
    vmalloc.vfree(0, va);
    assertThat(vmalloc.kernelTranslate(va)).isEqualTo(-1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void vmallocHuge_belowAPmd_fallsBackToPages(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long va = vmalloc.vmallocHuge(0, PMD / 2);
    assertThat(vmalloc.findArea(va).leafShift()).isEqualTo(12);
    assertThat(vmalloc.counters()).containsEntry("vmapHugeBlocksMapped", 0L);
  }

  // arm64 needs the non-last-level TLBI VAAE1IS of __flush_tlb_kernel_pgtable here: with a
  // last-level VAALE1IS core 1 would walk the freed table through its walk cache.
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void blockOverALeftoverTable_freesTheTableAfterFlushingWalkCaches(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Machine machine = kernel.machine();
    long small =
        vmalloc.vmalloc(0, PMD - 2 * 4096); // with its guard page: the first PMD minus one page
    assertThat(small & (PMD - 1)).as("the range starts PMD-aligned").isZero();
    machine.actOn(1);
    machine.access(1, small, 8, AccessKind.READ); // core 1's walk caches learn the PTE table
    machine.actOn(0);
    vmalloc.vfree(0, small);
    vmalloc.purgeVmapAreaLazy(0);
    long huge = vmalloc.vmallocHuge(0, PMD);
    assertThat(huge).isEqualTo(small);
    assertThat(vmalloc.counters()).containsEntry("vmapTablesFreed", 1L);
    machine.clocks().waitUntil(1, machine.now(0)); // core 1 accesses after core 0's calls
    machine.actOn(1);
    assertThat(machine.access(1, huge + 4096, 8, AccessKind.WRITE)).isTrue();
    assertThat(machine.oracle().total()).as(machine.oracle().recorded().toString()).isZero();
  }

  @org.junit.jupiter.api.Test
  void contpteOn_arm64_mapsAlignedContiguousRuns_offUsesPlainPages() {
    for (String variant : new String[] {"on", "off"}) {
      Kernel kernel =
          KernelBoot.on("arm64")
              .cores(1)
              .variants(java.util.Map.of("vmapContpte", variant))
              .memoryBytes(256L << 20)
              .kernelThreads()
              .boot();
      Vmalloc vmalloc = kernel.vmalloc();
      vmalloc.vmalloc(0, 4096); // moves the next fit off the 64 KiB boundary
      long va = vmalloc.vmallocHuge(0, 128L << 10);
      long descriptor = kernel.tables().leafDescriptor(kernel.kernelRootPfn(), va + 5 * 4096);
      int flags =
          kernel.machine().format().flags(descriptor, kernel.machine().format().levels() - 1);
      boolean contiguous = (flags & org.mmuemu.core.isa.PteFlags.CONTIGUOUS) != 0;
      if (variant.equals("on")) {
        assertThat(va & ((64L << 10) - 1)).isZero();
        assertThat(contiguous).isTrue();
        assertThat(vmalloc.kernelTranslate(va + 15 * 4096) - vmalloc.kernelTranslate(va))
            .isEqualTo(15 * 4096);
        assertThat(vmalloc.counters()).containsEntry("vmapHugeBlocksMapped", 2L);
      } else {
        assertThat(va & ((64L << 10) - 1)).isNotZero();
        assertThat(contiguous).isFalse();
        assertThat(vmalloc.counters()).containsEntry("vmapHugeBlocksMapped", 0L);
      }
      assertThat(kernel.machine().access(0, va + 7 * 4096, 8, AccessKind.WRITE)).isTrue();
      vmalloc.vfree(0, va);
      assertThat(vmalloc.kernelTranslate(va + 7 * 4096)).isEqualTo(-1);
    }
  }

  @org.junit.jupiter.api.Test
  void contpteOn_x86_isIgnored() {
    Kernel kernel =
        KernelBoot.on("x86")
            .cores(1)
            .variants(java.util.Map.of("vmapContpte", "on"))
            .memoryBytes(256L << 20)
            .kernelThreads()
            .boot();
    Vmalloc vmalloc = kernel.vmalloc();
    vmalloc.vmallocHuge(0, 128L << 10);
    assertThat(vmalloc.counters()).containsEntry("vmapHugeBlocksMapped", 0L);
  }
}
