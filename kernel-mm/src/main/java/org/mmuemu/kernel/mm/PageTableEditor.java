package org.mmuemu.kernel.mm;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.config.KernelCosts;

/**
 * Writes translations into page tables held in simulated frames, allocating missing tables on the
 * way down, and charges the acting core for each table allocated and descriptor written (Linux's
 * {@code __pte_alloc} / {@code set_pte_at} path, in the ISA's own format).
 *
 * <p>Confined to the simulation thread.
 */
public final class PageTableEditor {
  private final Machine machine;
  private final PageTableFormat format;
  private final PhysicalMemory memory;
  private final long tableAllocCycles;
  private final long pteWriteCycles;
  private long tablesAllocated;

  public PageTableEditor(Machine machine, KernelCosts costs) {
    this.machine = machine;
    this.format = machine.format();
    this.memory = machine.memory();
    this.tableAllocCycles = costs.tableAllocCycles();
    this.pteWriteCycles = costs.pteWriteCycles();
  }

  /** The format of the tables this editor writes. */
  public PageTableFormat format() {
    return format;
  }

  /** Page-table pages allocated so far (root tables included). */
  public long tablesAllocated() {
    return tablesAllocated;
  }

  /** Allocates an empty table (a root, or a lower level) and charges {@code core}. */
  public long allocateTable(int core) {
    long pfn = memory.allocate(FrameKind.PAGE_TABLE);
    tablesAllocated++;
    machine.charge(core, tableAllocCycles);
    return pfn;
  }

  /**
   * Creates the missing tables down to the one that holds {@code va}'s entry at {@code leafLevel}
   * (Linux's {@code pud_alloc}, {@code pmd_alloc} and {@code pte_alloc}, which a fault does before
   * it allocates the page it maps), charging {@code core} for each.
   */
  public void allocateTables(long rootPfn, long va, int leafLevel, int core) {
    descendCreating(rootPfn, va, leafLevel, core);
  }

  /**
   * Maps {@code va} to {@code pa} with a leaf at {@code leafLevel}, creating missing tables.
   *
   * @param rootPfn the root table
   * @param flags {@link org.mmuemu.core.isa.PteFlags} of the leaf
   * @throws IllegalStateException when a leaf already covers {@code va} at a higher level
   */
  public void map(long rootPfn, long va, long pa, int leafLevel, int flags, int core) {
    long tablePfn = descendCreating(rootPfn, va, leafLevel, core);
    memory.writeDescriptor(
        tablePfn, format.index(va, leafLevel), format.encodeLeaf(pa, leafLevel, flags));
    machine.charge(core, pteWriteCycles);
    machine.recordMapping(pa >>> PhysicalMemory.FRAME_SHIFT, va, true);
  }

  /**
   * Rewrites the flags of the leaf that maps {@code va}.
   *
   * @return whether a valid leaf was found
   */
  public boolean updateFlags(long rootPfn, long va, int flags, int core) {
    long tablePfn = rootPfn;
    for (int level = 0; level < format.levels(); level++) {
      int index = format.index(va, level);
      long descriptor = memory.readDescriptor(tablePfn, index);
      if (!format.isValid(descriptor, level)) {
        return false;
      }
      if (format.isLeaf(descriptor, level)) {
        memory.writeDescriptor(tablePfn, index, format.withFlags(descriptor, level, flags));
        machine.charge(core, pteWriteCycles);
        return true;
      }
      tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return false;
  }

  /**
   * Clears the base-page leaf that maps {@code va}, charging one descriptor write.
   *
   * @return the frame it mapped, or -1 when nothing was mapped there
   * @throws IllegalStateException when {@code va} is covered by a block (splitting blocks is not
   *     modelled yet)
   */
  public long clearLeaf(long rootPfn, long va, int core) {
    long tablePfn = rootPfn;
    for (int level = 0; level < format.levels(); level++) {
      int index = format.index(va, level);
      long descriptor = memory.readDescriptor(tablePfn, index);
      if (!format.isValid(descriptor, level)) {
        return -1;
      }
      if (format.isLeaf(descriptor, level)) {
        if (level != format.levels() - 1) {
          throw new IllegalStateException(
              "va 0x"
                  + Long.toHexString(va)
                  + " is mapped by a level-"
                  + level
                  + " block; unmapping part of a block is not modelled");
        }
        return clearEntry(tablePfn, va, level, core);
      }
      tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return -1;
  }

  /**
   * Clears the valid leaf or block entry for {@code va} at {@code level} of the table {@code
   * tablePfn}, charging one descriptor write and recording the unmapping.
   *
   * @return the (head) frame it mapped
   */
  public long clearEntry(long tablePfn, long va, int level, int core) {
    int index = format.index(va, level);
    long descriptor = memory.readDescriptor(tablePfn, index);
    memory.writeDescriptor(tablePfn, index, 0L);
    machine.charge(core, pteWriteCycles);
    long pfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    machine.recordMapping(pfn, va, false);
    return pfn;
  }

  /**
   * Returns the level of the valid leaf mapping {@code va} (the last level for a base page, a
   * higher one for a block), or -1 when nothing maps it. A software walk: costs nothing.
   */
  public int leafLevel(long rootPfn, long va) {
    long tablePfn = rootPfn;
    for (int level = 0; level < format.levels(); level++) {
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, level));
      if (!format.isValid(descriptor, level)) {
        return -1;
      }
      if (format.isLeaf(descriptor, level)) {
        return level;
      }
      tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return -1;
  }

  /**
   * Returns the frame of the table that holds the level-{@code level} entry for {@code va}, or -1
   * when a table above it is missing or a block covers it. A software walk: costs nothing.
   */
  public long tableAt(long rootPfn, long va, int level) {
    long tablePfn = rootPfn;
    for (int upper = 0; upper < level; upper++) {
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, upper));
      if (!format.isValid(descriptor, upper) || format.isLeaf(descriptor, upper)) {
        return -1;
      }
      tablePfn = format.outputPa(descriptor, upper) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return tablePfn;
  }

  /**
   * Returns the last-level entry for {@code va} as stored, present or not ({@link SwapPte}), or 0
   * when no PTE table holds it (a missing table or a block above). A software walk: costs nothing.
   */
  public long leafEntry(long rootPfn, long va) {
    int leafLevel = format.levels() - 1;
    long tablePfn = tableAt(rootPfn, va, leafLevel);
    return tablePfn < 0 ? 0 : memory.readDescriptor(tablePfn, format.index(va, leafLevel));
  }

  /**
   * Writes the non-present entry {@code entry} ({@link SwapPte}, or 0) into the last-level slot for
   * {@code va}, creating missing tables down to the PTE level, and charges one descriptor write. A
   * present leaf it replaces is recorded as unmapped; the caller flushes it.
   */
  public void writeLeafEntry(long rootPfn, long va, long entry, int core) {
    int leafLevel = format.levels() - 1;
    long tablePfn = descendCreating(rootPfn, va, leafLevel, core);
    int index = format.index(va, leafLevel);
    long old = memory.readDescriptor(tablePfn, index);
    memory.writeDescriptor(tablePfn, index, entry);
    machine.charge(core, pteWriteCycles);
    if (format.isValid(old, leafLevel)) {
      machine.recordMapping(
          format.outputPa(old, leafLevel) >>> PhysicalMemory.FRAME_SHIFT, va, false);
    }
  }

  /** Returns the valid leaf descriptor mapping {@code va}, or 0. A software walk: costs nothing. */
  public long leafDescriptor(long rootPfn, long va) {
    long tablePfn = rootPfn;
    for (int level = 0; level < format.levels(); level++) {
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, level));
      if (!format.isValid(descriptor, level)) {
        return 0;
      }
      if (format.isLeaf(descriptor, level)) {
        return descriptor;
      }
      tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return 0;
  }

  private long descendCreating(long rootPfn, long va, int leafLevel, int core) {
    long tablePfn = rootPfn;
    for (int level = 0; level < leafLevel; level++) {
      int index = format.index(va, level);
      long descriptor = memory.readDescriptor(tablePfn, index);
      if (!format.isValid(descriptor, level)) {
        long child = allocateTable(core);
        memory.writeDescriptor(
            tablePfn, index, format.encodeTable(child << PhysicalMemory.FRAME_SHIFT, level));
        machine.charge(core, pteWriteCycles);
        tablePfn = child;
      } else if (format.isLeaf(descriptor, level)) {
        throw new IllegalStateException(
            "va 0x" + Long.toHexString(va) + " is already covered by a level-" + level + " block");
      } else {
        tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
      }
    }
    return tablePfn;
  }
}
