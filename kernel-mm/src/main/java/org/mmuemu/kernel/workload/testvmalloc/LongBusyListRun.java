package org.mmuemu.kernel.workload.testvmalloc;

import static org.mmuemu.kernel.workload.testvmalloc.TestVmallocWorkload.PAGE;

import org.mmuemu.core.machine.AccessKind;

/** long_busy_list_alloc_test: 15,000 live one-page areas, then 100-page and 1-page pairs. */
final class LongBusyListRun extends TestRun {
  private static final int BUSY = 15_000;
  private final Worker w;
  private final long[] live = new long[BUSY];
  private boolean arrayAllocated;
  private long arrayVa;
  private int filled;
  private long loopsDone;
  private int freed;
  private boolean looping;

  LongBusyListRun(Worker worker) {
    this.w = worker;
  }

  @Override
  boolean step(int core) {
    if (!arrayAllocated) { // the pointer array is vmalloc'd too
      arrayAllocated = true;
      arrayVa = w.vmalloc.vmalloc(core, (long) Long.BYTES * BUSY);
      failed = arrayVa == 0;
      return true;
    }
    if (filled < BUSY && !failed) {
      live[filled] = w.vmalloc.vmalloc(core, PAGE);
      if (live[filled] == 0) {
        failed = true;
      } else {
        filled++;
      }
      looping = filled == BUSY;
      return true;
    }
    if (looping && !failed) {
      long big = w.vmalloc.vmalloc(core, 100 * PAGE);
      long small = w.vmalloc.vmalloc(core, PAGE);
      if (big == 0 || small == 0) {
        failed = true;
      } else {
        w.machine.access(core, big, 1, AccessKind.WRITE);
        w.machine.access(core, small, 1, AccessKind.WRITE);
      }
      w.vmalloc.vfree(core, big);
      w.vmalloc.vfree(core, small);
      looping = !failed && ++loopsDone < w.settings.loops();
      return true;
    }
    if (freed < filled) {
      w.vmalloc.vfree(core, live[freed++]);
    }
    if (freed < filled) {
      return true;
    }
    w.vmalloc.vfree(core, arrayVa);
    return false;
  }
}
