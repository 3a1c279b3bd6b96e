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
 * The concurrent-flush microbenchmark shape: the threads of one process run on several cores, each
 * reading its own pages of a shared mapping; thread 0 repeatedly does {@code
 * madvise(MADV_DONTNEED)} on one page and touches it again. Every madvise must remove the page from
 * every core that runs the process (arm64: a broadcast TLBI; x86: an IPI to each core in
 * mm_cpumask), so the run shows the cost of a one-page remote flush and what it does to the
 * bystanders.
 *
 * <p>Each step is one action: a madvise, a touch, or a bystander's read.
 */
public final class DontneedTouchWorkload implements Workload {

  @Override
  public String name() {
    return "dontneed-touch";
  }

  @Override
  public String description() {
    return "thread 0 of a process repeatedly MADV_DONTNEEDs one page and touches it while its other threads read";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer(
            "threads", null, 2, 4096, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.integer(
            "pagesPerThread", "16", 1, 1 << 20, "pages each bystander thread reads in turn"),
        WorkloadParam.integer(
            "iterations", "500", 1, 100_000_000, "madvise-touch rounds of each madvising thread"),
        WorkloadParam.integer(
            "dontneedThreads",
            "1",
            1,
            4096,
            "threads from thread 0 that each MADV_DONTNEED and touch the same page: more than one"
                + " zap that page concurrently under the mmap read lock (shows"
                + " madviseFlushBatching=noNestedCheck)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 2);
    long pagesPerThread = params.integer("pagesPerThread");
    long iterations = params.integer("iterations");
    int dontneedThreads = params.intValue("dontneedThreads");
    if (dontneedThreads >= threads) {
      throw new WorkloadException(
          "--param dontneedThreads="
              + dontneedThreads
              + ": (expected: fewer than the "
              + threads
              + " threads, so one reads)");
    }
    Mm mm = kernel.createMm();
    long base = MmWorkloads.DATA_BASE_VA;
    kernel.mmap(
        0, mm, new Vma(base, base + ((threads * pagesPerThread) << 12), PteFlags.WRITE, "shared"));
    int[] madvisersDone = new int[1];
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int madviser = 0; madviser < dontneedThreads; madviser++) {
      programs[madviser] =
          new CoreProgram() {
            private long remaining = iterations;
            private boolean started;
            private boolean touchNext;

            @Override
            public boolean step(int core) {
              if (!started) {
                kernel.switchTo(core, mm);
                started = true;
                touchNext = true;
                return true;
              }
              if (touchNext) {
                machine.access(core, base, 8, AccessKind.WRITE);
                touchNext = false;
                if (remaining-- == 0) {
                  madvisersDone[0]++;
                  return false;
                }
                return true;
              }
              kernel.madviseDontneed(core, mm, base, base + 4096);
              touchNext = true;
              return true;
            }
          };
    }
    for (int thread = dontneedThreads; thread < threads; thread++) {
      long first = base + ((thread * pagesPerThread) << 12);
      programs[thread] =
          new CoreProgram() {
            private boolean started;
            private long next;

            @Override
            public boolean step(int core) {
              if (!started) {
                kernel.switchTo(core, mm);
                started = true;
              }
              machine.access(
                  core, first + (next << 12), 8, next == 0 ? AccessKind.WRITE : AccessKind.READ);
              next = (next + 1) % pagesPerThread;
              return madvisersDone[0] < dontneedThreads;
            }
          };
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    return PreparedWorkload.of(programs, effective, Map::of);
  }
}
