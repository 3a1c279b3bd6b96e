package org.mmuemu.kernel.arch;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;

/**
 * The two halves of {@code pmd_free_pte_page} every architecture shares: unhooking the PTE table
 * under a kernel PMD entry, and freeing it (after the ptdump rendezvous). What an architecture does
 * between the two (which flush, if any) is its own.
 */
public final class KernelTableFreeing {
  private final KernelArchContext context;
  private final long pteWriteCycles;
  private final long pageFreeCycles;

  public KernelTableFreeing(KernelArchContext context, long pteWriteCycles, long pageFreeCycles) {
    this.context = context;
    this.pteWriteCycles = pteWriteCycles;
    this.pageFreeCycles = pageFreeCycles;
  }

  /**
   * Clears the kernel PMD entry covering {@code va} when it points at a PTE table ({@code
   * pmd_clear}), charging the store.
   *
   * @return the unhooked table's frame, or -1 when the PMD entry holds no table
   */
  public long unhookPteTable(int core, long va) {
    Machine machine = context.machine();
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int pmdLevel = format.levels() - 2;
    long tablePfn = context.kernelRootPfn();
    for (int level = 0; level < pmdLevel; level++) {
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, level));
      if (!format.isValid(descriptor, level) || format.isLeaf(descriptor, level)) {
        return -1;
      }
      tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    }
    int index = format.index(va, pmdLevel);
    long pmd = memory.readDescriptor(tablePfn, index);
    if (!format.isValid(pmd, pmdLevel) || format.isLeaf(pmd, pmdLevel)) {
      return -1;
    }
    memory.writeDescriptor(tablePfn, index, 0L);
    machine.charge(core, pteWriteCycles);
    return format.outputPa(pmd, pmdLevel) >>> PhysicalMemory.FRAME_SHIFT;
  }

  /**
   * Frees an unhooked table ({@code pte_free_kernel}), charging the free; first, with the {@code
   * ptdumpSync} fix, waits for a software walk in progress ({@link PtdumpLock#beforeTableFree}).
   */
  public void free(int core, long tablePfn) {
    context.ptdumpLock().beforeTableFree(context.machine(), core);
    context.machine().memory().free(tablePfn);
    context.machine().charge(core, pageFreeCycles);
  }
}
