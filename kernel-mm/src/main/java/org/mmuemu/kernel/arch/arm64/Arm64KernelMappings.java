package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * arm64's part of mapping and unmapping kernel (vmalloc) pages at the PTE level, as
 * {@code vmap_pte_range} and {@code vunmap_pte_range} drive it (DOMAIN.md §4.5):
 *
 * <ul>
 *   <li>each PTE write ({@code set_pte_at} on init_mm) is followed by the kernel PTE barriers
 *       ({@link Arm64TlbPolicy#setKernelPte}); the whole range is one lazy-MMU section, so with
 *       {@code lazyMmuBarrierBatching} on the range pays one barrier pair;
 *   <li>with the {@code vmapContpte} variant on ("arm64/mm: Support huge pte-mapped pages in
 *       vmap", v6.16), a huge mapping maps every 64 KiB block whose VA and PA are both aligned
 *       as one contiguous entry of 16 PTEs ({@code arch_vmap_pte_range_map_size},
 *       {@code set_huge_pte_at}): one barrier pair per block instead of per PTE, and one TLB
 *       entry per block; unmapping clears such a block as a whole
 *       ({@code arch_vmap_pte_range_unmap_size});
 *   <li>an unmap ends with {@code flush_tlb_kernel_range} over the range.
 * </ul>
 *
 * <p>The vmalloc allocator itself (areas, lazy purge) is not here; this class is what it calls
 * for the PTE level on arm64. Kernel mappings are global and are never folded or unfolded
 * afterwards, as in Linux.
 */
public final class Arm64KernelMappings {
  private static final long PAGE_SIZE = 1L << PhysicalMemory.FRAME_SHIFT;
  private static final int LEAF_LEVEL = 3;

  private final Machine machine;
  private final PageTableEditor tables;
  private final Arm64TlbPolicy policy;
  private final long kernelRootPfn;
  private final boolean contpte;

  public Arm64KernelMappings(Kernel kernel, Arm64TlbPolicy policy) {
    this.machine = kernel.machine();
    this.tables = kernel.tables();
    this.policy = policy;
    this.kernelRootPfn = machine.core(0).context().kernelRootPa() >>> PhysicalMemory.FRAME_SHIFT;
    this.contpte = "on".equals(kernel.config().variants().get("vmapContpte"));
  }

  /**
   * Linux {@code arch_vmap_pte_range_map_size}: 64 KiB when contpte vmap is on, huge mappings
   * are allowed, at least 64 KiB remain, and both the VA and the PA are 64 KiB aligned; else a
   * page.
   */
  long mapSize(long va, long endVa, long pa, boolean huge) {
    boolean aligned = ((va | pa) & (Arm64Contpte.CONT_PTE_SIZE - 1)) == 0;
    return contpte && huge && aligned && endVa - va >= Arm64Contpte.CONT_PTE_SIZE ? Arm64Contpte.CONT_PTE_SIZE
        : PAGE_SIZE;
  }

  /**
   * Maps {@code pages} kernel pages from {@code va} to the physically contiguous frames from
   * {@code pa} ({@code vmap_pte_range}).
   *
   * @param flags the pages' {@link PteFlags}; GLOBAL is added
   * @param huge the caller allows mappings larger than a page ({@code vmalloc_huge}, max_page_shift above PAGE_SHIFT)
   */
  public void map(int core, long va, long pa, long pages, int flags, boolean huge) {
    long start = machine.now(core);
    long end = va + pages * PAGE_SIZE;
    int entryFlags = (flags | PteFlags.GLOBAL) & ~PteFlags.CONTIGUOUS;
    policy.enterLazyMmu(core);
    while (va != end) {
      long size = mapSize(va, end, pa, huge);
      if (size == PAGE_SIZE) {
        tables.map(kernelRootPfn, va, pa, LEAF_LEVEL, entryFlags, core);
      } else {
        for (long offset = 0; offset < size; offset += PAGE_SIZE) {
          tables.map(kernelRootPfn, va + offset, pa + offset, LEAF_LEVEL, entryFlags | PteFlags.CONTIGUOUS, core);
        }
        machine.stats().addKernelCounter("vmapContpteBlocks", 1);
      }
      policy.setKernelPte(core); // set_pte_at, or set_huge_pte_at once for the whole block
      va += size;
      pa += size;
    }
    policy.leaveLazyMmu(core);
    machine.stats().recordLatency("vmap_pte_range", machine.now(core) - start);
  }

  /**
   * Unmaps {@code pages} kernel pages from {@code va} ({@code vunmap_range}): clears each PTE,
   * or each contiguous block as a whole, then {@code flush_tlb_kernel_range}.
   *
   * @return the frames that were mapped, in VA order (0 where nothing was)
   */
  public long[] unmap(int core, long va, long pages) {
    long start = machine.now(core);
    long[] pfns = new long[(int) pages];
    for (int i = 0; i < pages; i++) {
      long pfn = tables.clearLeaf(kernelRootPfn, va + i * PAGE_SIZE, core);
      pfns[i] = Math.max(pfn, 0);
    }
    policy.flushTlbKernelRange(core, va, va + pages * PAGE_SIZE);
    machine.stats().recordLatency("vunmap_range", machine.now(core) - start);
    return pfns;
  }
}
