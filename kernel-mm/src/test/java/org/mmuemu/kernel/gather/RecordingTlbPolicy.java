package org.mmuemu.kernel.gather;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.TlbGatherFlush;
import org.mmuemu.kernel.mm.Mm;

/**
 * Wraps a kernel's TLB policy: records every gather flush (and whether watched page-table frames
 * were still allocated when it ran) and passes it on.
 */
final class RecordingTlbPolicy implements ArchTlbPolicy {
  final ArchTlbPolicy real;
  final List<TlbGatherFlush> flushes = new ArrayList<>();

  /** Page-table frames still allocated when each flush ran, per flush. */
  final List<Boolean> tablesStillAllocated = new ArrayList<>();

  private final Kernel kernel;
  private final long[] watchedTables;

  RecordingTlbPolicy(Kernel kernel, long... watchedTables) {
    this.kernel = kernel;
    this.real = kernel.tlbPolicy();
    this.watchedTables = watchedTables;
  }

  @Override
  public void tlbFlush(int core, Mm mm, TlbGatherFlush gather) {
    boolean allocated = true;
    for (long pfn : watchedTables) {
      allocated &= kernel.machine().memory().isPageTable(pfn);
    }
    tablesStillAllocated.add(allocated);
    real.tlbFlush(core, mm, gather);
    flushes.add(gather);
  }

  @Override
  public boolean mergesVmas() {
    return real.mergesVmas();
  }

  @Override
  public void switchMm(int core, Mm previous, Mm next) {
    real.switchMm(core, previous, next);
  }

  @Override
  public void flushTlbRange(
      int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
    real.flushTlbRange(core, mm, startVa, endVa, strideShift, lastLevel);
  }

  @Override
  public void flushTlbMm(int core, Mm mm) {
    real.flushTlbMm(core, mm);
  }

  @Override
  public void flushTlbKernelRange(int core, long startVa, long endVa) {
    real.flushTlbKernelRange(core, startVa, endVa);
  }
}
