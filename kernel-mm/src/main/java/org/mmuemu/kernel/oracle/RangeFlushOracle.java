package org.mmuemu.kernel.oracle;

import java.util.function.IntFunction;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.FrameHistory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * The kernel's own check of a user-range promise: after munmap or madvise(MADV_DONTNEED) returns,
 * no core running the mm may still translate a page of the range that its PTE no longer maps
 * ({@code UNFLUSHED_ALIAS}; DOMAIN.md §3.7). Costs no simulated time.
 */
public final class RangeFlushOracle {
  private final Machine machine;
  private final PageTableEditor tables;
  private final IntFunction<Mm> runningMm;

  /**
   * @param runningMm the mm each core runs (by core id), or null
   */
  public RangeFlushOracle(Machine machine, PageTableEditor tables, IntFunction<Mm> runningMm) {
    this.machine = machine;
    this.tables = tables;
    this.runningMm = runningMm;
  }

  /**
   * The promise of madvise/munmap on return: no core running {@code mm} (idle cores, whose program
   * ended and which keep the mm lazily, excepted) still translates a page of {@code [startVa,
   * endVa)} that its PTE no longer maps. Each page is probed in each TLB level with the core's
   * current tag (no lookup is counted, no replacement state moves).
   */
  public void checkRangeFlushed(
      int core, Mm mm, long startVa, long endVa, String call, long flushStartCycle) {
    long pages = (endVa - startVa) >>> PhysicalMemory.FRAME_SHIFT;
    if (pages > 4096) {
      return; // MODEL: the check is skipped for very large ranges to bound host time
    }
    machine.interleave(
        core, "check:range_flushed"); // judge the other cores once they have reached this time
    for (int other = 0; other < machine.coreCount(); other++) {
      if (runningMm.apply(other) != mm || machine.isIdle(other)) {
        continue; // an idle core runs no user code; it catches up before it runs the mm again
      }
      org.mmuemu.core.machine.Core c = machine.core(other);
      int asid = c.context().asid();
      for (long va = startVa;
          Long.compareUnsigned(va, endVa) < 0;
          va += 1L << PhysicalMemory.FRAME_SHIFT) {
        long descriptor = tables.leafDescriptor(mm.rootPfn(), va);
        long mappedPa =
            descriptor == 0
                ? -1
                : machine.format().outputPa(descriptor, machine.format().levels() - 1);
        for (org.mmuemu.core.tlb.SetAssociativeTlb tlb : c.tlbLevels()) {
          int slot = tlb.probe(va, asid);
          if (slot >= 0
              && (tlb.translate(slot, va) & -(1L << PhysicalMemory.FRAME_SHIFT)) != mappedPa
              && !clearedByAnotherZapSince(
                  tlb.translate(slot, va) >>> PhysicalMemory.FRAME_SHIFT,
                  va,
                  core,
                  flushStartCycle)) {
            long pa = tlb.translate(slot, va);
            machine
                .oracle()
                .report(
                    ViolationKind.UNFLUSHED_ALIAS,
                    other,
                    machine.now(core),
                    va,
                    pa,
                    pa >>> PhysicalMemory.FRAME_SHIFT,
                    "after "
                        + call
                        + " returned on core "
                        + core
                        + ", "
                        + tlb.name()
                        + " of core "
                        + other
                        + " still translates va 0x"
                        + Long.toHexString(va)
                        + " to pa 0x"
                        + Long.toHexString(pa)
                        + (descriptor == 0
                            ? ", whose PTE is none"
                            : ", which its PTE no longer maps"));
            break;
          }
        }
      }
    }
  }

  /**
   * Whether another core unmapped {@code pfn} at {@code va} after this call's final flush began: a
   * concurrent zap whose own flush is still on its way, so the stale entry is that call's to remove
   * (and its own check covers it), not this one's.
   */
  private boolean clearedByAnotherZapSince(long pfn, long va, int core, long flushStartCycle) {
    long[] unmap = machine.history().lastEvent(pfn, FrameHistory.FrameEvent.UNMAPPED, va);
    return unmap != null && unmap[1] != core && unmap[0] >= flushStartCycle;
  }
}
