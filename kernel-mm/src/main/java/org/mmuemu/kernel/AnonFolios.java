package org.mmuemu.kernel;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.config.KernelTunables;
import org.mmuemu.kernel.config.MthpSizes;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.uffd.Userfaultfd;

/**
 * Multi-size THP for anonymous write faults (Linux 6.8+, mm/memory.c {@code alloc_anon_folio}): the
 * sizes the {@code mthp} tunable allows in the VMA ({@code thp_vma_allowable_orders}) are tried
 * largest first; a size is taken when its naturally aligned range around the fault lies inside the
 * VMA and every PTE of it is none ({@code pte_range_none}). The folio's frames are allocated
 * physically contiguous and aligned, zeroed, and mapped at once by the arch's {@code set_ptes}
 * ({@link ArchUserPtes#setPtes}: on arm64 with {@code arm64Contpte=auto} as contiguous blocks). So
 * one fault maps 4 to 256 pages; x86 still needs one TLB entry per page.
 *
 * <p>Counters: {@code mthpFaultAlloc} (folios) and {@code mthpFaultAlloc<size>} per size ({@code
 * anon_fault_alloc}), {@code mthpFaultFallback} (a write fault some size was enabled for that fell
 * back to a base page: no aligned range fitted, or no contiguous memory was left, Linux's {@code
 * anon_fault_fallback} counts only the latter).
 *
 * <p>{@code // MODEL:} once mapped, each page of the folio is accounted as its own anonymous page
 * (its own mapcount, pins and exclusive marker, freed when its own PTE is zapped and its gather
 * flushed), as after a split: Linux keeps the folio until its last page is unmapped and splits a
 * partly unmapped one only from the deferred split queue. Read faults are not served here (Linux
 * maps order 0 for them). Memory in a userfaultfd-registered range gets base pages, as in Linux.
 * The allocation is charged like one page plus a clear per page. Confined to the simulation thread.
 */
final class AnonFolios {
  private static final long PAGE_BYTES = 1L << PhysicalMemory.FRAME_SHIFT;

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final ArchUserPtes userPtes;
  private final Userfaultfd uffd;
  private final MthpSizes sizes;
  private final KernelTunables.Thp thp;
  private final boolean enabled;

  AnonFolios(
      Machine machine,
      KernelConfig config,
      PageTableEditor tables,
      ArchUserPtes userPtes,
      Userfaultfd uffd) {
    this.machine = machine;
    this.costs = config.costs();
    this.tables = tables;
    this.userPtes = userPtes;
    this.uffd = uffd;
    this.sizes = config.tunables().mthp();
    this.thp = config.tunables().thp();
    this.enabled = sizes.anyEnabled();
  }

  /**
   * Tries to resolve a write fault on the missing page {@code pageVa} of the anonymous VMA {@code
   * vma} with a large folio.
   *
   * @param flags the PTE flags of every page of the folio
   * @return the pages it mapped, or 0 when the caller maps a base page
   */
  int faultIn(int core, Mm mm, Vma vma, long pageVa, int flags) {
    if (!enabled || vma.mapsFile() || vma.shared()) {
      return 0;
    }
    boolean anyAllowed = false;
    for (int order = MthpSizes.MAX_ORDER; order >= MthpSizes.MIN_ORDER; order--) {
      if (!sizes.allows(order, thp, vma.hugepageAdvised())) {
        continue;
      }
      anyAllowed = true;
      long bytes = PAGE_BYTES << order;
      long startVa = pageVa & -bytes;
      if (Long.compareUnsigned(startVa, vma.startVa()) < 0
          || Long.compareUnsigned(startVa + bytes - 1, vma.endVa() - 1) > 0
          || !rangeNone(mm, startVa, 1 << order)
          || uffd.armed(mm, startVa, startVa + bytes)) {
        continue;
      }
      long headPfn;
      try {
        headPfn = machine.memory().allocateContiguous(1 << order, FrameKind.DATA);
      } catch (SimulatedOutOfMemoryException e) {
        continue; // no aligned run left: try a smaller size
      }
      tables.allocateTables(mm.rootPfn(), startVa, machine.format().levels() - 1, core);
      machine.charge(core, costs.pageAllocCycles() + (1L << order) * costs.pageZeroCycles());
      machine.catchUp(core); // the PTE writes must not be seen before the zeroing ends
      userPtes.setPtes(core, mm, startVa, headPfn << PhysicalMemory.FRAME_SHIFT, 1 << order, flags);
      machine.stats().addKernelCounter("mthpFaultAlloc", 1);
      machine.stats().addKernelCounter("mthpFaultAlloc" + MthpSizes.key(order), 1);
      return 1 << order;
    }
    if (anyAllowed) {
      machine.stats().addKernelCounter("mthpFaultFallback", 1);
    }
    return 0;
  }

  // pte_range_none: no PTE (present, swap entry or marker) in the range; no table means none
  private boolean rangeNone(Mm mm, long startVa, int pages) {
    for (int i = 0; i < pages; i++) {
      if (tables.leafEntry(mm.rootPfn(), startVa + i * PAGE_BYTES) != 0) {
        return false;
      }
    }
    return true;
  }
}
