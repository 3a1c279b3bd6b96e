package org.mmuemu.kernel.vmalloc;

import java.util.Iterator;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.mmuemu.core.machine.Core;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.tlb.SetAssociativeTlb;

/**
 * The {@code UNFLUSHED_ALIAS} check of kernel mappings, kept from ground truth rather than
 * from the allocator's own bookkeeping: every kernel page whose entry was cleared is remembered
 * until a completed kernel-range flush covers it.
 *
 * <p>When a flush of {@code [startVa, endVa)} completes, and when {@code vm_unmap_aliases}
 * returns (which promises that no unflushed alias remains anywhere), each remembered page in
 * the promised range is probed in every TLB level of every core; an entry that still
 * translates it to a frame the page tables no longer map there is reported, with the frame's
 * history. The probe does not count as a lookup and changes no replacement state.
 *
 * <p>Confined to the simulation thread. Host cost grows with the pages checked, not with the
 * run's length.
 */
final class AliasOracle {
  private final Machine machine;
  private final KernelPageTables tables;
  private final NavigableSet<Long> unflushedPageVas = new TreeSet<>(Long::compareUnsigned);
  private long checks;

  AliasOracle(Machine machine, KernelPageTables tables) {
    this.machine = machine;
    this.tables = tables;
  }

  /** Remembers that the kernel entry of {@code pageVa} was cleared and not yet flushed. */
  void unmapped(long pageVa) {
    unflushedPageVas.add(pageVa);
  }

  /** Pages unmapped and not yet covered by a completed flush. */
  int unflushedPages() {
    return unflushedPageVas.size();
  }

  /** A kernel-range flush of {@code [startVa, endVa)} completed on {@code core}: check and forget. */
  void flushCompleted(int core, long startVa, long endVa, String what) {
    NavigableSet<Long> covered = unflushedPageVas.subSet(startVa, true, endVa, false);
    for (Iterator<Long> it = covered.iterator(); it.hasNext(); ) {
      check(core, it.next(), what);
      it.remove();
    }
  }

  /** A call promised that no unflushed kernel alias remains anywhere (vm_unmap_aliases): check them all. */
  void promiseNoAliases(int core, String what) {
    for (long pageVa : unflushedPageVas) {
      check(core, pageVa, what);
    }
  }

  /** Checks performed (pages probed). */
  long checks() {
    return checks;
  }

  private void check(int core, long pageVa, String what) {
    checks++;
    long mappedPa = tables.translate(pageVa);
    for (int other = 0; other < machine.coreCount(); other++) {
      Core c = machine.core(other);
      for (SetAssociativeTlb tlb : c.tlbLevels()) {
        int slot = tlb.probe(pageVa, c.context().asid());
        if (slot < 0) {
          continue;
        }
        long pa = tlb.translate(slot, pageVa);
        if (mappedPa >= 0 && (mappedPa & -4096L) == (pa & -4096L)) {
          continue;
        }
        long pfn = pa >>> PhysicalMemory.FRAME_SHIFT;
        machine.oracle().report(ViolationKind.UNFLUSHED_ALIAS, core, machine.now(core), pageVa, pa, pfn,
            "after " + what + ", " + tlb.name() + " of core " + other + " still translates kernel va 0x"
                + Long.toHexString(pageVa) + " to frame 0x" + Long.toHexString(pfn)
                + (mappedPa < 0 ? ", which the page tables no longer map there" : ", which is not the mapped frame"));
        return;
      }
    }
  }
}
