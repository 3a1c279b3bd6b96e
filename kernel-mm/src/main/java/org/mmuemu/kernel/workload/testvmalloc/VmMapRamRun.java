package org.mmuemu.kernel.workload.testvmalloc;

import java.util.ArrayDeque;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.mem.FrameKind;

/**
 * vm_map_ram_test: {@code nr_pages} frames mapped, touched and unmapped in a loop; with {@code
 * vm_map_ram_live} greater than 1 each iteration unmaps the mapping made that many iterations
 * before instead of its own, so mappings of several lifetimes share a vmap block; with {@code
 * unmap_aliases_every}, every that many iterations the worker calls {@code vm_unmap_aliases} (what
 * {@code set_memory_*} does before it changes a page's permissions).
 */
final class VmMapRamRun extends TestRun {
  private final Worker w;
  private long[] pfns;
  private long loopsDone;
  private final ArrayDeque<Long> live = new ArrayDeque<>();

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
      live.addLast(va);
      while (live.size() >= w.settings.vmMapRamLive()) {
        w.vmalloc.vmUnmapRam(core, live.removeFirst(), pfns.length);
      }
    }
    ++loopsDone;
    long every = w.settings.unmapAliasesEvery();
    if (!failed && every > 0 && loopsDone % every == 0) {
      w.vmalloc.vmUnmapAliases(core);
    }
    if (failed || loopsDone == w.settings.loops()) {
      while (!live.isEmpty()) {
        w.vmalloc.vmUnmapRam(core, live.removeFirst(), pfns.length);
      }
      for (long pfn : pfns) {
        w.machine.memory().free(pfn);
      }
      return false;
    }
    return true;
  }
}
