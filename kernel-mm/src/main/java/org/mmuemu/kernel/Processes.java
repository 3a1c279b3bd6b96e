package org.mmuemu.kernel;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.VmaLocking;

/**
 * Process lifecycle (Linux kernel/fork.c, kernel/exit.c, kernel/sched's context switch): the
 * address spaces that exist, which one each core runs, creating an mm with the kernel's top-level
 * entries, mmap of anonymous memory, switching, and a task leaving its core. Confined to the
 * simulation thread.
 */
final class Processes {
  private static final KernelOperation OP_MMAP = KernelOperation.named("mmap");

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final ArchTlbPolicy tlbPolicy;
  private final VmaLocking vmaLocking;
  private final long kernelRootPfn;
  private final boolean kernelSharesUserRoot;
  private final List<Mm> mms = new ArrayList<>();
  private final List<Mm> exitedMms = new ArrayList<>();
  private final Mm[] currentMm;
  private long reservedUserRootPfn = -1;

  Processes(
      Machine machine,
      KernelCosts costs,
      PageTableEditor tables,
      ArchTlbPolicy tlbPolicy,
      VmaLocking vmaLocking,
      long kernelRootPfn,
      boolean kernelSharesUserRoot) {
    this.machine = machine;
    this.costs = costs;
    this.tables = tables;
    this.tlbPolicy = tlbPolicy;
    this.vmaLocking = vmaLocking;
    this.kernelRootPfn = kernelRootPfn;
    this.kernelSharesUserRoot = kernelSharesUserRoot;
    this.currentMm = new Mm[machine.coreCount()];
  }

  /**
   * Copies the kernel root's upper-half top-level entries into every process root (Linux x86 {@code
   * pgd_ctor} / {@code sync_global_pgds}); a no-op where the kernel has its own root. The kernel
   * pre-allocates the lower tables of those entries, so later kernel mappings need no further
   * copying.
   */
  public void syncKernelTopLevelEntries() {
    for (Mm mm : mms) {
      copyKernelTopLevel(mm.rootPfn());
    }
  }

  private void copyKernelTopLevel(long rootPfn) {
    if (!kernelSharesUserRoot) {
      return;
    }
    int entries = 1 << machine.format().indexBits();
    PhysicalMemory memory = machine.memory();
    for (int index = entries / 2; index < entries; index++) {
      long descriptor = memory.readDescriptor(kernelRootPfn, index);
      if (descriptor != 0 && memory.readDescriptor(rootPfn, index) != descriptor) {
        memory.writeDescriptor(rootPfn, index, descriptor);
        machine.charge(machine.actingCore(), costs.pteWriteCycles());
      }
    }
  }

  /**
   * Makes {@code core} run a kernel thread (no mm): on x86 CR3 is loaded with init_mm's root, which
   * maps the kernel half; on arm64 nothing changes, TTBR1 already holds the kernel root.
   */
  public void switchToKernelThread(int core) {
    currentMm[core] = null;
    machine.charge(core, costs.contextSwitchCycles());
    if (kernelSharesUserRoot) {
      machine.core(core).context().setUser(kernelRootPfn << PhysicalMemory.FRAME_SHIFT, 0);
    }
  }

  /** Creates an empty address space (charged to the acting core). */
  public Mm createMm() {
    int core = machine.actingCore();
    long root = tables.allocateTable(core);
    copyKernelTopLevel(root);
    Mm mm = new Mm(mms.size() + exitedMms.size() + 1, root, -1);
    mms.add(mm);
    return mm;
  }

  /**
   * Runs {@code mm} on {@code core}: pays the context-switch cost, then the arch policy's switch_mm
   * loads the root table and the tag into the core's translation registers.
   */
  public void switchTo(int core, Mm mm) {
    Mm previous = currentMm[core];
    currentMm[core] = mm;
    machine.charge(core, costs.contextSwitchCycles());
    tlbPolicy.switchMm(core, previous, mm);
  }

  /**
   * Writes the cores currently running {@code mm} into {@code out}, in core order.
   *
   * @return how many there are
   */
  public int coresRunning(Mm mm, int[] out) {
    int count = 0;
    for (int core = 0; core < currentMm.length; core++) {
      if (currentMm[core] == mm) {
        out[count++] = core;
      }
    }
    return count;
  }

  /**
   * Adds an anonymous mapping (Linux {@code mmap} of private anonymous memory); pages are faulted
   * in on first touch. The new VMA is write-locked until the mmap write lock is released (6.4.3,
   * "mm: lock newly mapped VMA ..."): it is in the tree from then on.
   */
  public void mmap(int core, Mm mm, Vma vma) {
    long start = OP_MMAP.begin(machine, core, vma.startVa());
    vmaLocking.mmapWriteLock(core, mm);
    machine.charge(core, costs.vmaLookupCycles());
    mm.addVma(vma);
    vmaLocking.vmaStartWrite(core, mm, vma);
    vmaLocking.mmapWriteUnlock(core, mm);
    OP_MMAP.end(machine, core, vma.startVa(), start);
  }

  /**
   * The task running on {@code core} exits: the core runs its idle task, keeping the mm lazily (x86
   * {@code enter_lazy_tlb}); on arm64 TTBR0 gets an empty table with ASID 0 (Linux's reserved
   * TTBR0), so no user walk can reach the mm's tables once they are freed.
   */
  public void exitThread(int core) {
    currentMm[core] = null;
    tlbPolicy.enterLazyTlb(core);
    if (!kernelSharesUserRoot) {
      if (reservedUserRootPfn < 0) {
        reservedUserRootPfn = tables.allocateTable(core);
      }
      machine.core(core).context().setUser(reservedUserRootPfn << PhysicalMemory.FRAME_SHIFT, 0);
    }
  }

  public Mm currentMm(int core) {
    return currentMm[core];
  }

  /** Records that {@code mm} is gone (after exit_mmap). */
  void exited(Mm mm) {
    mms.remove(mm);
    exitedMms.add(mm);
  }

  /** Address spaces created so far, exited ones included. */
  long created() {
    return mms.size() + exitedMms.size();
  }

  /** Address spaces that have exited. */
  long exited() {
    return exitedMms.size();
  }
}
