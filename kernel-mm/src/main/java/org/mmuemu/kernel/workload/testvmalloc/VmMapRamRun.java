package org.mmuemu.kernel.workload.testvmalloc;

import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.mem.FrameKind;

/** vm_map_ram_test: {@code nr_pages} frames mapped, touched and unmapped in a loop. */
final class VmMapRamRun extends TestRun {
  private final Worker w;
  private long[] pfns;
  private long loopsDone;

  VmMapRamRun(Worker worker) {
    this.w = worker;
  }

  @Override
  boolean step(int core) {
    if (pfns == null) {
      pfns = new long[w.settings.nrPages()];
      for (int i = 0; i < pfns.length; i++) {
        pfns[i] = w.machine.memory().allocate(FrameKind.KERNEL);
      }
      return true;
    }
    long va = w.vmalloc.vmMapRam(core, pfns, pfns.length);
    if (va == 0) {
      failed = true;
    } else {
      w.machine.access(core, va, 1, AccessKind.WRITE);
      w.vmalloc.vmUnmapRam(core, va, pfns.length);
    }
    if (failed || ++loopsDone == w.settings.loops()) {
      for (long pfn : pfns) {
        w.machine.memory().free(pfn);
      }
      return false;
    }
    return true;
  }
}
