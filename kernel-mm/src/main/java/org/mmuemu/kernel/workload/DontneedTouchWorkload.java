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
 * The concurrent-flush microbenchmark shape (Nadav Amit's, LKML-CONC): the threads of one process
 * run on several cores, each reading its own pages of a shared mapping; thread 0 repeatedly does
 * {@code madvise(MADV_DONTNEED)} on one page and touches it again. Every madvise must remove the
 * page from every core that runs the process (arm64: a broadcast TLBI; x86: an IPI to each core in
 * mm_cpumask), so the run shows the cost of a one-page remote flush and what it does to the
 * bystanders. With one thread there is no remote CPU: the local cost alone.
 *
 * <p>With {@code madviseThreads} above 1 the first that many threads each madvise and touch a page
 * of their own, concurrently: MADV_DONTNEED holds {@code mmap_lock} only for read, so flushes of
 * the one mm overlap, and on x86 a CPU whose IPI handler runs after a second request was made is
 * two {@code tlb_gen}s behind and catches up with one full flush ({@code x86CatchUpFullFlushes}).
 * With {@code samePage=1} they all madvise thread 0's page: two zaps of one page run concurrently
 * (DOMAIN.md §3.7), and one that finds the PTE already cleared must still not return before the
 * other's flush ({@code madviseFlushBatching}).
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
    return "thread 0 (or the first madviseThreads threads) of a process repeatedly MADV_DONTNEEDs one page and touches it while its other threads read";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(1, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.integer(
            "pagesPerThread", "16", 1, 1 << 20, "pages each bystander thread reads in turn"),
        WorkloadParam.integer(
            "iterations", "500", 1, 100_000_000, "madvise-touch rounds of each madvising thread"),
        WorkloadParam.integer(
            "madviseThreads",
            "1",
            1,
            4096,
            "threads (from thread 0) that madvise and touch a page of their own; the others read"),
        WorkloadParam.integer(
            "samePage",
            "0",
            0,
            1,
            "1: the madvising threads all madvise and touch thread 0's page, so their zaps of it"
                + " run concurrently under the mmap read lock (shows"
                + " madviseFlushBatching=noNestedCheck)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 1);
    long pagesPerThread = params.integer("pagesPerThread");
    long iterations = params.integer("iterations");
    int madviseThreads = (int) params.integer("madviseThreads");
    if (madviseThreads > threads) {
      throw new WorkloadException(
          "--param madviseThreads="
              + madviseThreads
              + ": (expected: 1 to threads="
              + threads
              + ")");
    }
    Mm mm = kernel.createMm();
    long base = MmWorkloads.DATA_BASE_VA;
    kernel.mmap(
        0, mm, new Vma(base, base + ((threads * pagesPerThread) << 12), PteFlags.WRITE, "shared"));
    boolean samePage = params.flag("samePage");
    int[] madvisersLeft = {madviseThreads};
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      boolean madvising = thread < madviseThreads;
      long first = madvising && samePage ? base : base + ((thread * pagesPerThread) << 12);
      programs[thread] =
          new DontneedThread(
              kernel, mm, first, pagesPerThread, madvising, iterations, madvisersLeft);
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    return PreparedWorkload.of(programs, effective, Map::of);
  }

  /**
   * One thread: a madvising one does madvise(MADV_DONTNEED) on its page and touches it, {@code
   * iterations} times; a bystander reads its own pages in turn until every madvising thread is
   * done.
   */
  private static final class DontneedThread implements CoreProgram {
    private final Kernel kernel;
    private final Mm mm;
    private final long firstVa;
    private final long pages;
    private final boolean madvising;
    private final int[] madvisersLeft;
    private long remaining;
    private long next;
    private boolean started;
    private boolean touchNext;

    DontneedThread(
        Kernel kernel,
        Mm mm,
        long firstVa,
        long pages,
        boolean madvising,
        long iterations,
        int[] madvisersLeft) {
      this.kernel = kernel;
      this.mm = mm;
      this.firstVa = firstVa;
      this.pages = pages;
      this.madvising = madvising;
      this.remaining = iterations;
      this.madvisersLeft = madvisersLeft;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, mm);
        started = true;
        touchNext = true;
        if (madvising) {
          return true;
        }
      }
      if (!madvising) {
        kernel
            .machine()
            .access(
                core, firstVa + (next << 12), 8, next == 0 ? AccessKind.WRITE : AccessKind.READ);
        next = (next + 1) % pages;
        return madvisersLeft[0] > 0;
      }
      if (touchNext) {
        kernel.machine().access(core, firstVa, 8, AccessKind.WRITE);
        touchNext = false;
        if (remaining-- == 0) {
          madvisersLeft[0]--;
          return false;
        }
        return true;
      }
      kernel.madviseDontneed(core, mm, firstVa, firstVa + 4096);
      touchNext = true;
      return true;
    }
  }
}
