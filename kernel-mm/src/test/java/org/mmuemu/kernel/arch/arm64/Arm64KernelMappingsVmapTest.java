package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.kernel.Kernel;

/**
 * Kernel (vmalloc) PTE mapping on arm64 under the variants that change its cost (DOMAIN.md
 * §4.5): page by page every PTE pays a {@code DSB ISHST; ISB} pair; with lazy-MMU batching the
 * whole map pays one; with contpte vmap a 1 MiB huge mapping is 16 blocks, each one barrier
 * pair and one TLB entry, which is the saving the 2025 patches measured. Unmapping clears and
 * flushes without tripping the break-before-make oracle.
 */
final class Arm64KernelMappingsVmapTest {
  private static final long VMALLOC_VA = 0xFFFF_8000_8000_0000L;
  private static final long PAGES = 256; // 1 MiB, test_vmalloc's fix_size_alloc_test with nr_pages=256
  private static final int FLAGS = PteFlags.WRITE | PteFlags.ACCESSED | PteFlags.DIRTY;

  private static Kernel boot(String contpte, String batching) {
    return Arm64Kernels.boot(2, Map.of(), Map.of("vmapContpte", contpte, "lazyMmuBarrierBatching", batching));
  }

  private static Map<String, Long> mapOneMiB(Kernel kernel, boolean huge) {
    Arm64KernelMappings mappings = new Arm64KernelMappings(kernel, Arm64Kernels.policy(kernel));
    long pa = kernel.machine().memory().allocateContiguous((int) PAGES, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    mappings.map(0, VMALLOC_VA, pa, PAGES, FLAGS, huge);
    return kernel.machine().stats().instructionCounts();
  }

  @Test
  void pageByPage_paysABarrierPairPerPte() {
    assertThat(mapOneMiB(boot("off", "off"), true)).containsExactly(Map.entry("DSB ISHST", PAGES),
        Map.entry("ISB", PAGES));
  }

  @Test
  void lazyMmuBatching_paysOnePairForTheWholeMap() {
    assertThat(mapOneMiB(boot("off", "on"), true)).containsExactly(Map.entry("DSB ISHST", 1L), Map.entry("ISB", 1L));
  }

  @Test
  void contpteVmap_paysOnePairPerBlock_andEachBlockIsOneTlbEntry() {
    Kernel kernel = boot("on", "off");

    assertThat(mapOneMiB(kernel, true)).containsExactly(Map.entry("DSB ISHST", 16L), Map.entry("ISB", 16L));

    Machine machine = kernel.machine();
    machine.translate(1, VMALLOC_VA + 0x5000, AccessKind.READ);
    SetAssociativeTlb l1d = machine.core(1).tlb("l1d");
    assertThat(l1d.pageShiftOf(l1d.probe(VMALLOC_VA + 0xF000, 0))).isEqualTo(16);
    assertThat(kernel.counters()).containsEntry("vmapContpteBlocks", 16L);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void contpteVmap_withoutHugeOrAlignment_mapsPages() {
    Kernel kernel = boot("on", "off");
    Arm64KernelMappings mappings = new Arm64KernelMappings(kernel, Arm64Kernels.policy(kernel));

    assertThat(mappings.mapSize(VMALLOC_VA, VMALLOC_VA + (1 << 20), 0x40_0000, false)).isEqualTo(4096);
    assertThat(mappings.mapSize(VMALLOC_VA, VMALLOC_VA + (1 << 20), 0x40_1000, true)).isEqualTo(4096);
    assertThat(mappings.mapSize(VMALLOC_VA, VMALLOC_VA + 0xF000, 0x40_0000, true)).isEqualTo(4096);
    assertThat(mappings.mapSize(VMALLOC_VA, VMALLOC_VA + 0x10000, 0x40_0000, true)).isEqualTo(65536);
    assertThat(new Arm64KernelMappings(boot("off", "off"), Arm64Kernels.policy(kernel))
        .mapSize(VMALLOC_VA, VMALLOC_VA + 0x10000, 0x40_0000, true)).isEqualTo(4096);
  }

  @Test
  void unmap_clearsAndFlushesTheKernelRange_everywhere_cleanly() {
    Kernel kernel = boot("on", "off");
    Machine machine = kernel.machine();
    Arm64KernelMappings mappings = new Arm64KernelMappings(kernel, Arm64Kernels.policy(kernel));
    long pa = machine.memory().allocateContiguous(32, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    mappings.map(0, VMALLOC_VA, pa, 32, FLAGS, true);
    machine.translate(1, VMALLOC_VA, AccessKind.READ);

    long[] pfns = mappings.unmap(0, VMALLOC_VA, 32);

    assertThat(pfns[0]).isEqualTo(pa >>> PhysicalMemory.FRAME_SHIFT);
    assertThat(pfns[31]).isEqualTo((pa >>> PhysicalMemory.FRAME_SHIFT) + 31);
    assertThat(machine.core(1).tlb("l1d").probe(VMALLOC_VA, 0)).isNegative();
    assertThat(machine.stats().instructionCounts()).containsEntry("TLBI VAALE1IS", 32L);
    assertThat(machine.oracle().total()).isZero();
  }
}
