package org.mmuemu.kernel;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.config.KernelTunables;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.rmap.AnonPages;

/**
 * Anonymous transparent huge pages at the PMD level (Linux mm/huge_memory.c): a fault in a VMA the
 * {@code thp} tunable allows, whose aligned 2 MiB around the address lies inside the VMA and has no
 * PTE table yet, maps one 2 MiB page with a single PMD entry ({@code do_huge_pmd_anonymous_page});
 * x86 writes a PS=1 PDE, arm64 a level-2 block descriptor, and the TLB caches it as one 2 MiB
 * entry. An operation on part of one ({@code munmap}/{@code MADV_DONTNEED} of a part, fork, a GUP
 * pin) first splits it into a PTE table of 512 base pages ({@code __split_huge_pmd}: the PMD is
 * invalidated and flushed on the mm's CPUs before the table replaces it, break-before-make).
 *
 * <p>A read fault maps the huge zero page instead ({@link ZeroPages}); splitting it fills the PTE
 * table with the 4 KiB zero page ({@code __split_huge_zero_page_pmd}).
 *
 * <p>Counters: {@code thpFaultAlloc}, {@code thpSplitPmd}, {@code hugeZeroPageSplits}.
 *
 * <p>{@code // MODEL:} fork splits the parent's huge pages (not the huge zero page) before copying
 * (Linux shares the PMD and splits on the first COW fault); a GUP pin splits (Linux pins the
 * subpage of the huge page); no khugepaged collapse, no deferred split queue (mTHP sizes below the
 * PMD are {@link AnonFolios}); the 512 frames are allocated and freed as one unit, charged like one
 * page plus 512 clears. Confined to the simulation thread.
 */
final class HugePmd {
  private static final int HPAGE_SHIFT = 21;
  private static final long HPAGE_BYTES = 1L << HPAGE_SHIFT;
  private static final int HPAGE_PAGES = 1 << (HPAGE_SHIFT - PhysicalMemory.FRAME_SHIFT);

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final AnonPages anonPages;
  private final ArchTlbPolicy tlbPolicy;
  private final ZeroPfns zeroPfns;
  private final KernelTunables.Thp thp;
  private final int pmdLevel;

  HugePmd(
      Machine machine,
      KernelConfig config,
      PageTableEditor tables,
      AnonPages anonPages,
      ArchTlbPolicy tlbPolicy,
      ZeroPfns zeroPfns) {
    this.machine = machine;
    this.costs = config.costs();
    this.tables = tables;
    this.anonPages = anonPages;
    this.tlbPolicy = tlbPolicy;
    this.zeroPfns = zeroPfns;
    this.thp = config.tunables().thp();
    this.pmdLevel = machine.format().levels() - 2;
  }

  /** The level of the PMD entries that map huge pages (one above the last). */
  int pmdLevel() {
    return pmdLevel;
  }

  /** The size of a huge page (2 MiB). */
  long hugePageBytes() {
    return HPAGE_BYTES;
  }

  // Linux thp_vma_allowable_order for an anonymous VMA
  private boolean allowed(Vma vma) {
    if (vma.mapsFile() || vma.shared()) {
      return false;
    }
    return thp == KernelTunables.Thp.ALWAYS
        || (thp == KernelTunables.Thp.MADVISE && vma.hugepageAdvised());
  }

  /**
   * Whether a missing-page fault at {@code pageVa} may be resolved with a huge page: the VMA allows
   * it and the aligned 2 MiB around it lies inside the VMA with nothing mapped under its PMD yet.
   */
  boolean fits(Mm mm, Vma vma, long pageVa) {
    long hugeVa = pageVa & -HPAGE_BYTES;
    return allowed(vma)
        && Long.compareUnsigned(hugeVa, vma.startVa()) >= 0
        && Long.compareUnsigned(hugeVa + HPAGE_BYTES - 1, vma.endVa() - 1) <= 0
        && pmdNone(mm, hugeVa);
  }

  /**
   * Tries to resolve a missing-page fault at {@code pageVa} with a huge page.
   *
   * @return whether it mapped one (else the caller maps a base page)
   */
  boolean faultIn(int core, Mm mm, Vma vma, long pageVa, boolean write) {
    if (!fits(mm, vma, pageVa)) {
      return false;
    }
    mapNewHugePage(core, mm, vma, pageVa & -HPAGE_BYTES, write);
    return true;
  }

  /** Allocates a zeroed huge page and maps it with one PMD at {@code hugeVa}, now empty. */
  void mapNewHugePage(int core, Mm mm, Vma vma, long hugeVa, boolean write) {
    tables.allocateTables(mm.rootPfn(), hugeVa, pmdLevel, core);
    machine.charge(core, costs.pageAllocCycles() + HPAGE_PAGES * costs.pageZeroCycles());
    machine.catchUp(core); // the PMD write must not be seen before the zeroing ends
    long headPfn = machine.memory().allocateContiguous(HPAGE_PAGES, FrameKind.DATA);
    anonPages.addHuge(headPfn);
    int flags = vma.flags() | PteFlags.USER | PteFlags.ACCESSED | (write ? PteFlags.DIRTY : 0);
    tables.map(mm.rootPfn(), hugeVa, headPfn << PhysicalMemory.FRAME_SHIFT, pmdLevel, flags, core);
    machine.stats().addKernelCounter("thpFaultAlloc", 1);
  }

  // pmd_none: no table and no block under the PMD entry for va (missing upper tables count too)
  private boolean pmdNone(Mm mm, long hugeVa) {
    long table = tables.tableAt(mm.rootPfn(), hugeVa, pmdLevel);
    if (table < 0) {
      return tables.leafLevel(mm.rootPfn(), hugeVa) < 0;
    }
    return !machine
        .format()
        .isValid(
            machine.memory().readDescriptor(table, machine.format().index(hugeVa, pmdLevel)),
            pmdLevel);
  }

  /** Splits the huge page that maps {@code va}, if one does. */
  void split(int core, Mm mm, long va) {
    if (tables.leafLevel(mm.rootPfn(), va) != pmdLevel) {
      return;
    }
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    long hugeVa = va & -HPAGE_BYTES;
    long pmdTable = tables.tableAt(mm.rootPfn(), hugeVa, pmdLevel);
    int index = format.index(hugeVa, pmdLevel);
    long block = memory.readDescriptor(pmdTable, index);
    int flags = format.flags(block, pmdLevel);
    long basePa = format.outputPa(block, pmdLevel);
    // the huge zero page splits into PTEs of the 4 KiB zero page, each read-only already
    boolean hugeZero = zeroPfns.isHugeZero(basePa >>> PhysicalMemory.FRAME_SHIFT);
    long zeroPa = zeroPfns.zeroPfn() << PhysicalMemory.FRAME_SHIFT;
    int leafLevel = pmdLevel + 1;
    long pteTable = tables.allocateTable(core);
    for (int i = 0; i < HPAGE_PAGES; i++) {
      long pa = hugeZero ? zeroPa : basePa + ((long) i << PhysicalMemory.FRAME_SHIFT);
      memory.writeDescriptor(pteTable, i, format.encodeLeaf(pa, leafLevel, flags));
    }
    machine.charge(core, HPAGE_PAGES * costs.pteWriteCycles());
    // pmdp_invalidate: break, flush every CPU of the mm, then make with the PTE table
    memory.writeDescriptor(pmdTable, index, 0L);
    tlbPolicy.flushTlbRange(core, mm, hugeVa, hugeVa + HPAGE_BYTES, HPAGE_SHIFT, true);
    memory.writeDescriptor(
        pmdTable, index, format.encodeTable(pteTable << PhysicalMemory.FRAME_SHIFT, pmdLevel));
    machine.charge(core, 2 * costs.pteWriteCycles());
    anonPages.splitHuge(basePa >>> PhysicalMemory.FRAME_SHIFT);
    machine.stats().addKernelCounter("thpSplitPmd", 1);
    if (hugeZero) {
      machine.stats().addKernelCounter("hugeZeroPageSplits", 1);
    }
  }

  /** Splits every huge page mapped in {@code vma}. */
  void splitAll(int core, Mm mm, Vma vma) {
    splitAll(core, mm, vma, false);
  }

  /**
   * Splits every huge page mapped in {@code vma}, but with {@code keepHugeZero} the huge zero page,
   * which fork shares as one PMD ({@code copy_huge_pmd}).
   */
  void splitAll(int core, Mm mm, Vma vma, boolean keepHugeZero) {
    for (long va = (vma.startVa() + HPAGE_BYTES - 1) & -HPAGE_BYTES;
        Long.compareUnsigned(va, vma.endVa()) < 0 && va != 0;
        va += HPAGE_BYTES) {
      if (!keepHugeZero || !mapsHugeZero(mm, va)) {
        split(core, mm, va);
      }
    }
  }

  /** Whether a huge zero PMD maps {@code va} in {@code mm} ({@code is_huge_zero_pmd}). */
  boolean mapsHugeZero(Mm mm, long va) {
    if (tables.leafLevel(mm.rootPfn(), va) != pmdLevel) {
      return false;
    }
    long descriptor = tables.leafDescriptor(mm.rootPfn(), va);
    return zeroPfns.isHugeZero(
        machine.format().outputPa(descriptor, pmdLevel) >>> PhysicalMemory.FRAME_SHIFT);
  }

  /**
   * Frees the 2 MiB page headed by {@code headPfn} after the gather that unmapped it flushed.
   *
   * @return whether {@code headPfn} was a huge page (then all its frames are free)
   */
  boolean releaseHuge(int core, long headPfn) {
    if (!anonPages.splitHuge(headPfn)) {
      return false;
    }
    for (int i = 0; i < HPAGE_PAGES; i++) {
      machine.memory().free(headPfn + i);
    }
    machine.charge(core, costs.pageFreeCycles());
    return true;
  }
}
