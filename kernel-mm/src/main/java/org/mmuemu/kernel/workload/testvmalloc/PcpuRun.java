package org.mmuemu.kernel.workload.testvmalloc;

import static org.mmuemu.kernel.workload.testvmalloc.TestVmallocWorkload.PAGE;

/**
 * pcpu_alloc_test: {@code nr_pcpu_objects} per-CPU objects of random size and alignment, then all
 * freed.
 */
final class PcpuRun extends TestRun {
  private final Worker w;
  private final long[] objects;
  private int allocated;
  private int freed;

  PcpuRun(Worker worker) {
    this.w = worker;
    this.objects = new long[worker.settings.pcpuObjects()];
  }

  @Override
  boolean step(int core) {
    if (allocated < objects.length && !failed) {
      long size = 1 + w.random.nextInt((int) (PAGE / 4));
      long align = 1L << (1 + w.random.nextInt(12 - 1));
      objects[allocated] = w.vmalloc.percpu().alloc(core, size, align);
      if (objects[allocated] == 0) {
        failed = true;
      } else {
        allocated++;
      }
      return true;
    }
    if (freed < allocated) {
      w.vmalloc.percpu().free(core, objects[freed++]);
    }
    return freed < allocated;
  }
}
