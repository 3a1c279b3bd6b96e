package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.vmalloc.Vmalloc;

/**
 * Huge vmalloc on arm64 under the variants that change its cost (DOMAIN.md §4.5), through the live
 * path ({@code vmalloc_huge} calling the arch hooks): page by page every PTE pays a {@code DSB
 * ISHST; ISB} pair; with lazy-MMU batching the PTE table pays one; with contpte vmap a 1 MiB huge
 * mapping is 16 blocks, each one barrier pair and one TLB entry, which is the saving the 2025
 * patches measured. Freeing and purging flushes without tripping the break-before-make oracle.
 */
final class Arm64KernelMappingsVmapTest {
  private static final long BYTES =
      1L << 20; // test_vmalloc's fix_size_alloc_test with nr_pages=256

  private static Kernel boot(String contpte, String batching) {
    return KernelBoot.on("arm64")
        .cores(2)
        .contpteTlbs()
        .variants(Map.of("vmapContpte", contpte, "lazyMmuBarrierBatching", batching))
        .boot();
  }

  private static Map<String, Long> vmallocHugeOneMiB(Kernel kernel) {
    kernel.machine().actOn(0);
    assertThat(kernel.vmalloc().vmallocHuge(0, BYTES)).isNotZero();
    return kernel.machine().stats().instructionCounts();
  }

  @Test
  void pageByPage_paysABarrierPairPerPte() {
    assertThat(vmallocHugeOneMiB(boot("off", "off")))
        .containsExactly(Map.entry("DSB ISHST", 256L), Map.entry("ISB", 256L));
  }

  @Test
  void lazyMmuBatching_paysOnePairForThePteTable() {
    assertThat(vmallocHugeOneMiB(boot("off", "on")))
        .containsExactly(Map.entry("DSB ISHST", 1L), Map.entry("ISB", 1L));
  }

  @Test
  void contpteVmap_paysOnePairPerBlock_andEachBlockIsOneTlbEntry() {
    Kernel kernel = boot("on", "off");

    assertThat(vmallocHugeOneMiB(kernel))
        .containsExactly(Map.entry("DSB ISHST", 16L), Map.entry("ISB", 16L));

    Machine machine = kernel.machine();
    long va = kernel.arch().layout().vmallocStartVa();
    machine.actOn(1);
    machine.translate(1, va + 0x5000, AccessKind.READ);
    SetAssociativeTlb l1d = machine.core(1).tlb("l1d");
    assertThat(l1d.pageShiftOf(l1d.probe(va + 0xF000, 0))).isEqualTo(16);
    assertThat(kernel.counters())
        .containsEntry("vmapContpteBlocks", 16L)
        .containsEntry("vmapPteSyncs", 16L);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void contpteVmap_belowOneBlock_mapsPages() {
    Kernel kernel = boot("on", "off");
    kernel.machine().actOn(0);

    kernel.vmalloc().vmallocHuge(0, 60L << 10);

    assertThat(kernel.counters())
        .doesNotContainKey("vmapContpteBlocks")
        .containsEntry("vmapPteSyncs", 15L);
  }

  @Test
  void vfreeAndPurge_flushTheKernelRange_everywhere_cleanly() {
    Kernel kernel = boot("on", "off");
    Machine machine = kernel.machine();
    Vmalloc vmalloc = kernel.vmalloc();
    machine.actOn(0);
    long va = vmalloc.vmallocHuge(0, 128L << 10);
    machine.actOn(1);
    machine.translate(1, va, AccessKind.READ);
    machine.actOn(0);

    vmalloc.vfree(0, va);
    vmalloc.purgeVmapAreaLazy(0);

    assertThat(machine.core(1).tlb("l1d").probe(va, 0)).isNegative();
    assertThat(machine.stats().instructionCounts()).containsKey("TLBI VAALE1IS");
    assertThat(machine.oracle().total()).isZero();
  }
}
