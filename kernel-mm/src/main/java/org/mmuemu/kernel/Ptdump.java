package org.mmuemu.kernel;

import static org.mmuemu.kernel.UnsignedVa.max;
import static org.mmuemu.kernel.UnsignedVa.min;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.arch.PtdumpLock;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.vmalloc.PreemptionHook;

/**
 * A software walk of the kernel's page tables as ptdump makes it (mm/ptdump.c {@code
 * ptdump_walk_pgd}, behind {@code /sys/kernel/debug/kernel_page_tables}; arm64's {@code
 * ptdump_walk} enables {@code arm64_ptdump_lock_key} around it): under init_mm's mmap lock (held
 * for write, {@link PtdumpLock}) it reads every entry of every table that covers the walked range,
 * descending into each table an entry points at. It reads simulated memory as a CPU would, so it
 * may read a table another core freed after the walk read the entry pointing at it: that read is a
 * {@code FREED_TABLE_WALK} (judged at the walker's time, like a hardware walk) and the walk skips
 * the rest of that table.
 *
 * <p>Between reading a PUD or PMD entry and reading the table it points at the walk reaches the
 * named preemption points {@link PreemptionHook#PTDUMP_PUD_READ} and {@link
 * PreemptionHook#PTDUMP_PMD_READ}; it also interleaves every {@value #ENTRIES_PER_STRETCH} entries
 * it reads, as other CPUs run meanwhile.
 *
 * <p>Latency {@code ptdump_walk_pgd}; counters {@code ptdumpWalks}, {@code ptdumpEntriesRead}.
 *
 * <p>{@code // MODEL:} the walk covers the vmalloc range only (ptdump walks every kernel region);
 * reading and noting one entry costs what a PTE store does; nothing is printed. Confined to the
 * simulation thread.
 */
final class Ptdump {
  private static final KernelOperation OP_PTDUMP = KernelOperation.named("ptdump_walk_pgd");
  private static final int ENTRIES_PER_STRETCH = 64;

  private final Machine machine;
  private final PtdumpLock lock;
  private final long kernelRootPfn;
  private final long entryCycles;
  private final long startVa;
  private final long endVa;
  private PreemptionHook preemptionHook = PreemptionHook.NONE;
  private long entriesRead;

  Ptdump(
      Machine machine,
      PtdumpLock lock,
      long kernelRootPfn,
      long entryCycles,
      long startVa,
      long endVa) {
    this.machine = machine;
    this.lock = lock;
    this.kernelRootPfn = kernelRootPfn;
    this.entryCycles = entryCycles;
    this.startVa = startVa;
    this.endVa = endVa;
  }

  void setPreemptionHook(PreemptionHook hook) {
    this.preemptionHook = hook;
  }

  /** One dump of the kernel page tables on {@code core}. */
  void walk(int core) {
    long start = OP_PTDUMP.begin(machine, core, startVa);
    long before = entriesRead;
    lock.beginWalk(machine, core);
    walkTable(core, kernelRootPfn, machine.memory().allocationSequence(), 0, 0);
    lock.endWalk(machine, core);
    machine.stats().addKernelCounter("ptdumpWalks", 1);
    machine.stats().addKernelCounter("ptdumpEntriesRead", entriesRead - before);
    OP_PTDUMP.end(machine, core, startVa, start);
  }

  // Reads the entries of one table that cover [startVa, endVa); baseVa is the table's first VA.
  private void walkTable(int core, long tablePfn, long readStamp, int level, long baseVa) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int shift = format.levelShift(level);
    long entrySpan = 1L << shift;
    long tableSpan = entrySpan << format.indexBits();
    long from = level == 0 ? startVa : max(startVa, baseVa);
    long to = level == 0 ? endVa : min(endVa, baseVa + tableSpan);
    int pmdLevel = format.levels() - 2;
    int stretch = 0;
    for (long va = from & -entrySpan; Long.compareUnsigned(va, to) < 0; va += entrySpan) {
      if (++stretch == ENTRIES_PER_STRETCH) {
        stretch = 0;
        machine.interleave(core);
      }
      if (!stillTable(core, tablePfn, readStamp, level, va)) {
        return;
      }
      long descriptor = memory.readDescriptor(tablePfn, format.index(va, level));
      entriesRead++;
      machine.charge(core, entryCycles);
      if (level < format.levels() - 1
          && format.isValid(descriptor, level)
          && !format.isLeaf(descriptor, level)) {
        long child = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
        long childStamp = memory.allocationSequence();
        if (level == pmdLevel) {
          preemptionHook.preempt(machine, PreemptionHook.PTDUMP_PMD_READ, core);
        } else if (level == pmdLevel - 1) {
          preemptionHook.preempt(machine, PreemptionHook.PTDUMP_PUD_READ, core);
        }
        walkTable(core, child, childStamp, level + 1, va & -entrySpan);
      }
      if (va + entrySpan == 0) {
        break; // the last entry of the address space
      }
    }
  }

  // Whether the frame still holds the table the walk found; reports a read of a freed one.
  private boolean stillTable(int core, long tablePfn, long readStamp, int level, long va) {
    PhysicalMemory memory = machine.memory();
    if (memory.isPageTable(tablePfn) && memory.isCurrent(tablePfn, readStamp)) {
      return true;
    }
    long now = machine.now(core);
    if (machine.oracle().isStaleAt(tablePfn, readStamp, now)) {
      machine
          .oracle()
          .report(
              ViolationKind.FREED_TABLE_WALK,
              core,
              now,
              va,
              tablePfn << PhysicalMemory.FRAME_SHIFT,
              tablePfn,
              "ptdump read a level-"
                  + level
                  + " descriptor from frame 0x"
                  + Long.toHexString(tablePfn)
                  + ", freed since the walk read the entry pointing at it");
    }
    return false;
  }
}
