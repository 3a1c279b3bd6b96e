package org.mmuemu.core.testkit;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;

/**
 * Writes page tables straight into a machine's simulated frames in the ISA's own format, for tests
 * that need exact control over descriptors (no kernel, no cost charged). Missing tables are
 * allocated on the way down.
 */
public final class PageTableWriter {
  private final Machine machine;
  private final PageTableFormat format;
  private final PhysicalMemory memory;

  public PageTableWriter(Machine machine) {
    this.machine = machine;
    this.format = machine.format();
    this.memory = machine.memory();
  }

  /** Allocates an empty table frame and returns its frame number. */
  public long newTable() {
    return memory.allocate(FrameKind.PAGE_TABLE);
  }

  /**
   * Allocates a root table and loads it (as both the user and the kernel root) with {@code asid}
   * into every core's translation registers.
   *
   * @return the root's frame number
   */
  public long newRootOnAllCores(int asid) {
    long root = newTable();
    for (int core = 0; core < machine.coreCount(); core++) {
      load(core, root, asid);
    }
    return root;
  }

  /**
   * Loads {@code rootPfn} as both the user and the kernel root of {@code core}, with {@code asid}.
   */
  public void load(int core, long rootPfn, int asid) {
    long rootPa = rootPfn << PhysicalMemory.FRAME_SHIFT;
    machine.core(core).context().setUser(rootPa, asid);
    machine.core(core).context().setKernelRoot(rootPa);
  }

  /** Maps {@code va} to {@code pa} with a leaf at {@code level}, creating missing tables. */
  public void map(long rootPfn, long va, long pa, int level, int flags) {
    long table = tableAt(rootPfn, va, level, true);
    memory.writeDescriptor(table, format.index(va, level), format.encodeLeaf(pa, level, flags));
  }

  /** Clears the descriptor at {@code level} that translates {@code va}. No invalidation. */
  public void clear(long rootPfn, long va, int level) {
    memory.writeDescriptor(tableAt(rootPfn, va, level, false), format.index(va, level), 0L);
  }

  /**
   * Returns the frame of the level-{@code level} table that translates {@code va} (the root for
   * level 0).
   *
   * @param create allocate missing tables; otherwise a missing table fails the test
   */
  public long tableAt(long rootPfn, long va, int level, boolean create) {
    long table = rootPfn;
    for (int l = 0; l < level; l++) {
      int index = format.index(va, l);
      long descriptor = memory.readDescriptor(table, index);
      if (!format.isValid(descriptor, l)) {
        if (!create) {
          throw new AssertionError(
              "no level-" + (l + 1) + " table for va 0x" + Long.toHexString(va));
        }
        long child = newTable();
        memory.writeDescriptor(
            table, index, format.encodeTable(child << PhysicalMemory.FRAME_SHIFT, l));
        table = child;
      } else if (format.isLeaf(descriptor, l)) {
        throw new AssertionError(
            "va 0x" + Long.toHexString(va) + " is covered by a level-" + l + " leaf");
      } else {
        table = format.outputPa(descriptor, l) >>> PhysicalMemory.FRAME_SHIFT;
      }
    }
    return table;
  }
}
