package org.mmuemu.kernel.vmalloc;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchKernelMappings;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * The kernel half of the page tables, as vmalloc writes it (Linux {@code vmap_pages_range} / {@code
 * vunmap_range_noflush}): leaves are global, writable, accessed and dirty; missing tables are
 * allocated on the way down; unmapping clears leaves of any size and never frees a table, so no TLB
 * flush is needed when mapping (the range was flushed when it was purged).
 *
 * <p>Every descriptor written is charged through the {@link PageTableEditor} cost. After each valid
 * entry the arch layer publishes it to the walkers ({@link ArchKernelMappings#setKernelPte}: arm64
 * {@code DSB ISHST; ISB}); inside a batch each PTE table's run of page entries is one lazy MMU
 * section, as each {@code vmap_pte_range} is in Linux, so an arch that batches its barriers ({@code
 * lazyMmuBarrierBatching}) pays once per table. Confined to the simulation thread.
 */
final class KernelPageTables {
  /** Flags of every vmalloc leaf. */
  static final int KERNEL_LEAF_FLAGS =
      PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY;

  private final Machine machine;
  private final PageTableFormat format;
  private final PhysicalMemory memory;
  private final PageTableEditor tables;
  private final long rootPfn;
  private final long pteWriteCycles;
  private final ArchKernelMappings arch;
  private boolean inBatch;
  private boolean inLazyMmu;
  private long lazyTableVa;

  KernelPageTables(
      Machine machine,
      PageTableEditor tables,
      long rootPfn,
      long pteWriteCycles,
      ArchKernelMappings arch) {
    this.machine = machine;
    this.format = machine.format();
    this.memory = machine.memory();
    this.tables = tables;
    this.rootPfn = rootPfn;
    this.pteWriteCycles = pteWriteCycles;
    this.arch = arch;
  }

  /**
   * Starts a run of leaf writes ({@code vmap_range_noflush}); page entries go in lazy MMU sections
   * per table.
   */
  void beginBatch() {
    inBatch = true;
  }

  /** Ends the run, leaving the last lazy MMU section. */
  void endBatch(int core) {
    if (inLazyMmu) {
      inLazyMmu = false;
      arch.leaveLazyMmu(core);
    }
    inBatch = false;
  }

  // vmap_pte_range brackets each PTE table's writes with arch_enter/leave_lazy_mmu_mode
  private void lazyMmuFor(int core, long va) {
    if (!inBatch) {
      return;
    }
    long tableVa = va & -(1L << format.levelShift(format.levels() - 2));
    if (inLazyMmu && tableVa == lazyTableVa) {
      return;
    }
    if (inLazyMmu) {
      arch.leaveLazyMmu(core);
    }
    arch.enterLazyMmu(core);
    inLazyMmu = true;
    lazyTableVa = tableVa;
  }

  long rootPfn() {
    return rootPfn;
  }

  /**
   * Maps one leaf of the size of {@code level}, creating tables on the way, and has the arch
   * publish it ({@code set_pte} / {@code set_pmd} on init_mm).
   */
  void mapLeaf(int core, long va, long pa, int level) {
    if (level == format.levels() - 1) {
      lazyMmuFor(core, va);
    }
    tables.map(rootPfn, va, pa, level, KERNEL_LEAF_FLAGS, core);
    arch.setKernelPte(core);
  }

  /** Maps one PTE-level huge block through the arch ({@code set_huge_pte_at}, arm64 contpte). */
  void mapPteBlock(int core, long va, long pa, long blockBytes) {
    lazyMmuFor(core, va);
    arch.setHugeVmapPte(core, va, pa, blockBytes, KERNEL_LEAF_FLAGS);
  }

  /**
   * Clears every leaf in {@code [startVa, endVa)}, whatever its size, charging one descriptor write
   * each, and calls {@code cleared} with each 4 KiB page VA and the frame it mapped.
   *
   * @return the leaves cleared
   */
  int unmapRange(int core, long startVa, long endVa, PageSink cleared) {
    int leaves = 0;
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
      if (va != startVa && (va & ((2L << 20) - 1)) == 0) {
        machine.interleave(
            core,
            "vunmap_pmd_range:next"); // between PTE tables, as vunmap_pmd_range moves to the next
      }
      long tablePfn = rootPfn;
      long next = va + 4096;
      for (int level = 0; level < format.levels(); level++) {
        int index = format.index(va, level);
        long descriptor = memory.readDescriptor(tablePfn, index);
        long span = 1L << format.levelShift(level);
        if (!format.isValid(descriptor, level)) {
          next = (va & -span) + span;
          break;
        }
        if (format.isLeaf(descriptor, level)) {
          memory.writeDescriptor(tablePfn, index, 0L);
          machine.charge(core, pteWriteCycles);
          leaves++;
          long leafVa = va & -span;
          long basePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
          for (long page = 0; page < span >>> 12; page++) {
            long pageVa = leafVa + (page << 12);
            machine.recordMapping(basePfn + page, pageVa, false);
            cleared.page(pageVa, basePfn + page);
          }
          next = leafVa + span;
          break;
        }
        tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
      }
      if (Long.compareUnsigned(next, va) <= 0) {
        break; // wrapped past the top of the address space
      }
      va = next;
    }
    return leaves;
  }

  /** Software walk: the physical address {@code va} maps to, or -1. Costs nothing. */
  long translate(long va) {
    long tablePfn = rootPfn;
    for (int level = 0; level < format.levels(); level++) {
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, level));
      if (!format.isValid(descriptor, level)) {
        return -1;
      }
      long pa = format.outputPa(descriptor, level);
      if (format.isLeaf(descriptor, level)) {
        return pa + (va & ((1L << format.levelShift(level)) - 1));
      }
      tablePfn = pa >>> PhysicalMemory.FRAME_SHIFT;
    }
    return -1;
  }

  /** Receives the pages an unmap cleared. */
  @FunctionalInterface
  interface PageSink {
    void page(long pageVa, long pfn);
  }
}
