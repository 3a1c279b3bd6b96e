package org.mmuemu.kernel.vmalloc;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * The kernel half of the page tables, as vmalloc writes it (Linux {@code vmap_pages_range} /
 * {@code vunmap_range_noflush}): leaves are global, writable, accessed and dirty; missing
 * tables are allocated on the way down; unmapping clears leaves of any size and never frees
 * a table, so no TLB flush is needed when mapping (the range was flushed when it was purged).
 *
 * <p>Every descriptor written is charged through the {@link PageTableEditor} cost. After valid
 * entries are written the arch layer is asked to make them visible to the walkers
 * ({@link ArchTlbPolicy#syncKernelPtes}: arm64 {@code DSB ISHST; ISB}), per entry or, with the
 * {@code lazyMmuBarrierBatching} variant, once per page-table page of a batch. Confined to the
 * simulation thread.
 */
final class KernelPageTables {
  /** Flags of every vmalloc leaf. */
  static final int KERNEL_LEAF_FLAGS = PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY;

  private final Machine machine;
  private final PageTableFormat format;
  private final PhysicalMemory memory;
  private final PageTableEditor tables;
  private final long rootPfn;
  private final long pteWriteCycles;
  private final ArchTlbPolicy policy;
  private final boolean batchBarriers;
  private boolean inBatch;
  private boolean syncPending;
  private long batchTableVa;
  private long syncs;

  /**
   * @param batchBarriers the {@code lazyMmuBarrierBatching} variant: inside a batch, the
   *     barrier after valid kernel PTE writes is issued once per page-table page rather than
   *     after every entry
   */
  KernelPageTables(Machine machine, PageTableEditor tables, long rootPfn, long pteWriteCycles, ArchTlbPolicy policy,
      boolean batchBarriers) {
    this.machine = machine;
    this.format = machine.format();
    this.memory = machine.memory();
    this.tables = tables;
    this.rootPfn = rootPfn;
    this.pteWriteCycles = pteWriteCycles;
    this.policy = policy;
    this.batchBarriers = batchBarriers;
  }

  /** Times the arch layer was asked to make kernel entry stores visible ({@link ArchTlbPolicy#syncKernelPtes}). */
  long syncs() {
    return syncs;
  }

  /**
   * Starts a run of leaf writes (Linux {@code arch_enter_lazy_mmu_mode} in {@code vmap_pte_range}).
   * Without batching, every valid leaf is synced as it is written.
   */
  void beginBatch() {
    inBatch = true;
    syncPending = false;
  }

  /** Ends the run: the pending sync, if any, is issued ({@code arch_leave_lazy_mmu_mode}). */
  void endBatch(int core) {
    if (syncPending) {
      sync(core);
    }
    inBatch = false;
    syncPending = false;
  }

  private void sync(int core) {
    syncs++;
    policy.syncKernelPtes(core);
    syncPending = false;
  }

  long rootPfn() {
    return rootPfn;
  }

  /** The level whose leaves map {@code 1 << shift} bytes, or -1 when no level does. */
  int levelForShift(int shift) {
    for (int level = 0; level < format.levels(); level++) {
      if (format.levelShift(level) == shift && format.allowsLeaf(level)) {
        return level;
      }
    }
    return -1;
  }

  /**
   * Maps one leaf of the size of {@code level}; tables on the way are created. A valid kernel
   * entry must be made visible to the walkers: at once, or, for page entries inside a batch
   * with barrier batching, once per page-table page (Linux's lazy MMU mode covers one
   * {@code vmap_pte_range}, that is one table).
   */
  void mapLeaf(int core, long va, long pa, int level, int extraFlags) {
    tables.map(rootPfn, va, pa, level, KERNEL_LEAF_FLAGS | extraFlags, core);
    boolean pageLevel = level == format.levels() - 1;
    if (!(batchBarriers && inBatch && pageLevel)) {
      sync(core);
      return;
    }
    long tableVa = va & -(1L << format.levelShift(level - 1));
    if (syncPending && tableVa != batchTableVa) {
      sync(core); // the previous table's vmap_pte_range left lazy mode
    }
    batchTableVa = tableVa;
    syncPending = true;
  }

  /**
   * Returns the table at {@code level} on the path to {@code va}, creating none, or -1.
   * A software walk; costs nothing.
   */
  long tableAt(long va, int level) {
    long tablePfn = rootPfn;
    for (int l = 0; l < level; l++) {
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, l));
      if (!format.isValid(descriptor, l) || format.isLeaf(descriptor, l)) {
        return -1;
      }
      tablePfn = format.outputPa(descriptor, l) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return tablePfn;
  }

  /**
   * Clears every leaf in {@code [startVa, endVa)}, whatever its size, charging one descriptor
   * write each, and calls {@code cleared} with each 4 KiB page VA and the frame it mapped.
   *
   * @return the leaves cleared
   */
  int unmapRange(int core, long startVa, long endVa, PageSink cleared) {
    int leaves = 0;
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
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
