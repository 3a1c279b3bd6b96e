package org.mmuemu.kernel;

import static org.mmuemu.kernel.UnsignedVa.max;
import static org.mmuemu.kernel.UnsignedVa.min;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.lock.SimLock;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.VmaLocking;

/**
 * {@code mprotect} (Linux mm/mprotect.c {@code do_mprotect_pkey}, {@code mprotect_fixup}, {@code
 * change_protection}; 6.1+ batches its flushes through mmu_gather). Under {@code mmap_lock} held
 * for write, each VMA of the range whose flags change is write-locked ({@code vma_start_write},
 * which waits for faults holding it under the per-VMA lock), split where the range ends inside it,
 * given the new flags, and then its present PTEs are rewritten under each PTE table's lock: a PTE
 * that loses write or execute permission is recorded in the gather ({@code tlb_flush_pte_range}),
 * and the gather's flush at {@code tlb_end_vma} (arm64) or {@code tlb_finish_mmu} removes the old
 * translations from every CPU running the mm (arm64 {@code TLBI ...IS} + {@code DSB ISH}, x86
 * INVLPG plus IPIs), before {@code mmap_lock} is released. A PTE that only gains permission is left
 * as it is: a later write fault makes it writable ({@code do_wp_page} reuse), as Linux does for a
 * page it cannot prove exclusive.
 *
 * <p>Counters: {@code mprotectCalls}, {@code mprotectPtesChanged}, {@code mprotectPtesFlushed}.
 *
 * <p>{@code // MODEL:} a PTE's write permission is not restored when the VMA becomes writable again
 * (Linux 6.x restores it at once for an exclusive anonymous page, {@code can_change_pte_writable});
 * huge pages in the range are split first (Linux changes a whole huge PMD in place); only PTEs that
 * lose permission are flushed (x86's {@code pte_needs_flush}; arm64 flushes every changed PTE).
 * Confined to the simulation thread.
 */
final class Mprotect {
  private static final KernelOperation OP_MPROTECT = KernelOperation.named("mprotect");
  private static final long PAGE_BYTES = 1L << PhysicalMemory.FRAME_SHIFT;
  private static final int PROTECTION_FLAGS = PteFlags.WRITE | PteFlags.EXEC;

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final HugePmd hugePmd;
  private final VmaLocking vmaLocking;
  private final Teardown teardown;
  private final ArchUserPtes userPtes;

  Mprotect(MmParts parts, Teardown teardown) {
    this.machine = parts.machine();
    this.costs = parts.costs();
    this.tables = parts.tables();
    this.userPtes = parts.userPtes();
    this.hugePmd = parts.hugePmd();
    this.vmaLocking = parts.vmaLocking();
    this.teardown = teardown;
  }

  /**
   * Gives {@code [startVa, endVa)} the permissions {@code flags} ({@link PteFlags#WRITE} and {@link
   * PteFlags#EXEC}; readable always). Parts of the range no VMA covers are left alone.
   */
  void mprotect(int core, Mm mm, long startVa, long endVa, int flags) {
    long start = OP_MPROTECT.begin(machine, core, startVa);
    int protection = flags & PROTECTION_FLAGS;
    vmaLocking.mmapWriteLock(core, mm);
    MmuGather tlb = teardown.gather(core, mm, false);
    List<Vma> overlapping = new ArrayList<>();
    for (Vma vma : mm.vmas()) {
      if (Long.compareUnsigned(vma.endVa(), startVa) > 0
          && Long.compareUnsigned(vma.startVa(), endVa) < 0) {
        overlapping.add(vma);
      }
    }
    machine.charge(core, costs.vmaLookupCycles() * Math.max(1, overlapping.size()));
    for (Vma vma : overlapping) {
      if ((vma.flags() & PROTECTION_FLAGS) == protection) {
        continue; // mprotect_fixup: nothing changes, the VMA is not even locked
      }
      vmaLocking.vmaStartWrite(core, mm, vma);
      long from = max(vma.startVa(), startVa);
      long to = min(vma.endVa(), endVa);
      Vma changed = mm.changeFlags(vma, from, to, (vma.flags() & ~PROTECTION_FLAGS) | protection);
      hugePmd.splitAll(core, mm, changed);
      changeProtection(tlb, mm, from, to, protection);
      tlb.endVma();
    }
    tlb.finish();
    vmaLocking.mmapWriteUnlock(core, mm);
    machine.stats().addKernelCounter("mprotectCalls", 1);
    OP_MPROTECT.end(machine, core, startVa, start);
  }

  // change_pte_range per PTE table, under its lock
  private void changeProtection(MmuGather tlb, Mm mm, long from, long to, int protection) {
    PageTableFormat format = machine.format();
    int leafLevel = format.levels() - 1;
    long tableSpan = 1L << format.levelShift(leafLevel - 1);
    int core = tlb.core();
    long va = from;
    while (Long.compareUnsigned(va, to) < 0) {
      long tableEnd = min(to, (va & -tableSpan) + tableSpan);
      SimLock ptl = mm.pteLock(va);
      ptl.acquire(machine, core, costs.lockCycles());
      for (; Long.compareUnsigned(va, tableEnd) < 0; va += PAGE_BYTES) {
        long descriptor = tables.leafDescriptor(mm.rootPfn(), va);
        if (descriptor == 0) {
          continue;
        }
        int oldFlags = format.flags(descriptor, leafLevel);
        int newFlags = (oldFlags & ~PROTECTION_FLAGS) | (oldFlags & protection);
        newFlags |= protection & PteFlags.EXEC;
        if (newFlags == oldFlags) {
          // MODEL: a PTE whose protection stays is not rewritten (Linux 6.9 rewrites every present
          // PTE, unfolding and refolding a contiguous block even when nothing in it changes); its
          // commit's set_pte may still complete a block whose other PTEs did change
          if ((oldFlags & PteFlags.CONTIGUOUS) == 0) {
            userPtes.tryFold(core, mm, va);
          }
          continue;
        }
        // ptep_modify_prot_start unfolds a contiguous block; _commit's set_pte may fold it again
        userPtes.unfold(core, mm, va);
        tables.updateFlags(mm.rootPfn(), va, newFlags & ~PteFlags.CONTIGUOUS, core);
        userPtes.tryFold(core, mm, va);
        machine.stats().addKernelCounter("mprotectPtesChanged", 1);
        if ((oldFlags & ~newFlags & PROTECTION_FLAGS) != 0) {
          tlb.recordCleared(va, PAGE_BYTES, leafLevel);
          machine.stats().addKernelCounter("mprotectPtesFlushed", 1);
        }
      }
      ptl.release(machine, core);
    }
  }
}
