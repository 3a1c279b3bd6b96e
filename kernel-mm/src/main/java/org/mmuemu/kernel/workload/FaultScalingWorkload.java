package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * Page-fault scaling: the threads of one process fault in disjoint regions of one mm (each page
 * written once), then unmap them and start over, for the given rounds. The fault latency
 * distribution shows the per-fault work (entry, VMA lookup, page allocation and zeroing, table
 * allocation for the first page of each table's span).
 *
 * <p>{@code // MODEL:} no mmap_lock, per-VMA lock or page-table lock contention: faults of
 * different threads do not wait for each other. Each step is one action: a touch, an mmap or an
 * munmap.
 */
public final class FaultScalingWorkload implements Workload {
  private static final long THREAD_SPACING_BYTES = 1L << 30;

  @Override
  public String name() {
    return "fault-scaling";
  }

  @Override
  public String description() {
    return "threads of one process fault in disjoint regions of one mm, then unmap them, for some rounds";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(1, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.size(
            "regionBytes",
            "1MiB",
            4096,
            (1L << 30) - 4096,
            "bytes each thread faults in per round"),
        WorkloadParam.integer("rounds", "4", 1, 1_000_000, "fault-in and unmap rounds per thread"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 1);
    long regionBytes = MmWorkloads.pageAligned(params.bytes("regionBytes"));
    long rounds = params.integer("rounds");
    Mm mm = kernel.createMm();
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      long base = MmWorkloads.DATA_BASE_VA + thread * THREAD_SPACING_BYTES;
      programs[thread] =
          new CoreProgram() {
            private long remaining = rounds;
            private long offset = -1;
            private boolean started;

            @Override
            public boolean step(int core) {
              if (!started) {
                kernel.switchTo(core, mm);
                started = true;
              }
              if (offset < 0) {
                kernel.mmap(core, mm, new Vma(base, base + regionBytes, PteFlags.WRITE, "region"));
                offset = 0;
                return true;
              }
              if (offset < regionBytes) {
                machine.access(core, base + offset, 8, AccessKind.WRITE);
                offset += 4096;
                return true;
              }
              kernel.munmap(core, mm, base, base + regionBytes);
              offset = -1;
              return --remaining > 0;
            }
          };
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("regionBytes", Long.toString(regionBytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }
}
