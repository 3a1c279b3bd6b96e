package org.mmuemu.kernel.workload.testvmalloc;

import static org.mmuemu.kernel.workload.testvmalloc.TestVmallocWorkload.PAGE;

/**
 * full_fit_alloc_test: {@code lazy_max_pages()} pairs of one-page areas, the second of each freed
 * (holes between live areas, a full lazy list), then the loop reuses the holes.
 */
final class FullFitRun extends TestRun {
  private final Worker w;
  private final long[] ptr;
  private final long[] junk;
  private boolean arraysAllocated;
  private long ptrArrayVa;
  private long junkArrayVa;
  private int phase;
  private int index;
  private long loopsDone;

  FullFitRun(Worker worker) {
    this.w = worker;
    int junkLength = (int) worker.vmalloc.lazyMaxPages();
    this.ptr = new long[junkLength];
    this.junk = new long[junkLength];
  }

  @Override
  boolean step(int core) {
    if (!arraysAllocated) { // the two pointer arrays are vmalloc'd too
      arraysAllocated = true;
      ptrArrayVa = w.vmalloc.vmalloc(core, (long) Long.BYTES * ptr.length);
      junkArrayVa = w.vmalloc.vmalloc(core, (long) Long.BYTES * junk.length);
      if (ptrArrayVa == 0 || junkArrayVa == 0) {
        failed = true;
        phase = 3;
      }
      return true;
    }
    switch (phase) {
      case 0 -> { // fill
        ptr[index] = w.vmalloc.vmalloc(core, PAGE);
        junk[index] = w.vmalloc.vmalloc(core, PAGE);
        if (ptr[index] == 0 || junk[index] == 0) {
          failed = true;
          phase = 3;
          index = 0;
          freeLiveJunk(core); // only a failed fill leaves junk live at the cleanup
        } else if (++index == ptr.length) {
          phase = 1;
          index = 0;
        }
      }
      case 1 -> { // free the junk
        w.vmalloc.vfree(core, junk[index]);
        junk[index] = 0; // freed: its address may be another area's from now on
        if (++index == junk.length) {
          phase = 2;
          index = 0;
        }
      }
      case 2 -> { // the test loop
        if (!w.touchAndFree(core, w.vmalloc.vmalloc(core, PAGE))) {
          failed = true;
          phase = 3;
        } else if (++loopsDone == w.settings.loops()) {
          phase = 3;
        }
      }
      default -> { // cleanup
        while (index < ptr.length && ptr[index] == 0) {
          index++;
        }
        if (index < ptr.length) {
          w.vmalloc.vfree(core, ptr[index++]);
        }
        if (index < ptr.length) {
          return true;
        }
        w.vmalloc.vfree(core, ptrArrayVa);
        w.vmalloc.vfree(core, junkArrayVa);
        return false;
      }
    }
    return true;
  }

  private void freeLiveJunk(int core) {
    for (int i = 0; i < junk.length; i++) {
      if (junk[i] != 0) {
        w.vmalloc.vfree(core, junk[i]);
        junk[i] = 0;
      }
    }
  }
}
