package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.numa.NumaBalancing;

/**
 * NUMA balancing scans over a "disjoint VMA set" (DOMAIN-FAULTS.md §2.7, numa01-like): the threads
 * of one process, one per core, each touching only its own anonymous VMAs, with NUMA balancing on
 * ({@link NumaBalancing}). Every scan period one thread's {@code task_numa_work} makes PTEs
 * PROT_NONE and flushes them; the next touch of each such page is a NUMA hinting fault. With the
 * {@code numaScanFilter=all} variant (before 6.4) each scan covers every thread's VMAs, with {@code
 * accessedPids} (6.4) only, after the first two passes, the scanning thread's own.
 *
 * <p>With {@code firstTouch=main} thread 0 faults every page in before the others start, so on a
 * machine of several NUMA nodes the other nodes' threads find their memory remote and their hinting
 * faults migrate it; with {@code owner} each thread faults in its own pages.
 *
 * <p>Each step is one data access followed by the thread's scheduler tick ({@code task_tick_numa}).
 */
public final class NumaScanWorkload implements Workload {
  /** Thread ids start here (PIDs of the threads' tasks). */
  static final int FIRST_PID = 1000;

  private static final long PTE_TABLE_SPAN_BYTES = 1L << 21;

  @Override
  public String name() {
    return "numa-scan";
  }

  @Override
  public String description() {
    return "threads each touch their own VMAs while NUMA balancing scans (PROT_NONE, flushes, hinting faults)";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(1, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.integer("vmasPerThread", "2", 1, 64, "anonymous VMAs each thread owns"),
        WorkloadParam.size("vmaBytes", "256KiB", 4096, 1L << 30, "bytes of each VMA"),
        WorkloadParam.integer(
            "accesses", "200000", 1, 1_000_000_000, "data accesses per thread to its own VMAs"),
        WorkloadParam.fraction("writeFraction", "0.2", "share of accesses that are stores"),
        WorkloadParam.fraction(
            "sharedFraction",
            "0",
            "share of accesses to another thread's VMAs (0: each thread touches only its own)"),
        WorkloadParam.integer(
            "scanPeriodUs",
            "50",
            0,
            60_000_000,
            "NUMA scan delay and period in simulated microseconds (0: the kernel tunables,"
                + " Linux's 1000 ms)"),
        WorkloadParam.choice(
            "firstTouch",
            "main",
            List.of("main", "owner"),
            "main: thread 0 faults every page in first (numa01); owner: each thread its own"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 1);
    int vmasPerThread = params.intValue("vmasPerThread");
    long vmaBytes = MmWorkloads.pageAligned(params.bytes("vmaBytes"));
    long accesses = params.integer("accesses");
    double writeFraction = params.fraction("writeFraction");
    double sharedFraction = params.fraction("sharedFraction");
    long scanPeriodUs = params.integer("scanPeriodUs");
    boolean mainTouchesFirst = params.choice("firstTouch").equals("main");
    long spacing = (vmaBytes + PTE_TABLE_SPAN_BYTES) & -PTE_TABLE_SPAN_BYTES;
    if (scanPeriodUs == 0) {
      kernel.numaBalancing().enable();
    } else {
      long periodCycles = Math.round(scanPeriodUs * machine.spec().frequencyGHz() * 1000);
      kernel.numaBalancing().enable(periodCycles, periodCycles);
    }
    Mm mm = kernel.createMm();
    StartSignal signal = new StartSignal();
    Layout layout =
        new Layout(
            threads,
            vmasPerThread,
            spacing,
            vmaBytes,
            accesses,
            writeFraction,
            sharedFraction,
            mainTouchesFirst);
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      long firstVa = MmWorkloads.DATA_BASE_VA + (long) thread * vmasPerThread * spacing;
      programs[thread] =
          new ThreadProgram(
              kernel,
              mm,
              layout,
              signal,
              thread,
              firstVa,
              new SplittableRandom(seed * 31 + thread));
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("vmaBytes", Long.toString(vmaBytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }

  /** The run's layout and parameters, the same for every thread. */
  private record Layout(
      int threads,
      int vmas,
      long spacing,
      long vmaBytes,
      long accesses,
      double writeFraction,
      double sharedFraction,
      boolean mainTouchesFirst) {}

  /** What thread 0's setup publishes to the others: every VMA is mapped (and touched). */
  private static final class StartSignal {
    boolean ready;
  }

  private static final class ThreadProgram implements CoreProgram {
    private final Kernel kernel;
    private final Machine machine;
    private final Mm mm;
    private final Layout layout;
    private final StartSignal signal;
    private final int thread;
    private final long firstVa;
    private final SplittableRandom random;
    private long remaining;
    private boolean started;
    private boolean running;
    private long setupVa = -1;

    ThreadProgram(
        Kernel kernel,
        Mm mm,
        Layout layout,
        StartSignal signal,
        int thread,
        long firstVa,
        SplittableRandom random) {
      this.kernel = kernel;
      this.machine = kernel.machine();
      this.mm = mm;
      this.layout = layout;
      this.signal = signal;
      this.thread = thread;
      this.firstVa = firstVa;
      this.remaining = layout.accesses();
      this.random = random;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, mm);
        started = true;
        if (thread == 0) {
          mapEveryVma(core);
        }
        return true;
      }
      if (thread == 0 && !signal.ready) {
        touchNextPage(core);
        return true;
      }
      if (!signal.ready) {
        machine.charge(core, MmWorkloads.POLL_CYCLES);
        return true;
      }
      if (!running) {
        kernel.numaBalancing().startTask(core, mm, FIRST_PID + thread);
        running = true;
      }
      long owner = firstVa;
      if (layout.threads() > 1 && random.nextDouble() < layout.sharedFraction()) {
        int other = (thread + 1 + random.nextInt(layout.threads() - 1)) % layout.threads();
        owner += (long) (other - thread) * layout.vmas() * layout.spacing();
      }
      long va =
          owner
              + random.nextInt(layout.vmas()) * layout.spacing()
              + (random.nextLong(layout.vmaBytes() >>> 12) << 12)
              + 8L * random.nextInt(512);
      AccessKind kind =
          random.nextDouble() < layout.writeFraction() ? AccessKind.WRITE : AccessKind.READ;
      machine.access(core, va, 8, kind);
      kernel.numaBalancing().tick(core);
      if (--remaining > 0) {
        return true;
      }
      kernel.numaBalancing().stopTask(core);
      return false;
    }

    // thread 0: every thread's VMAs, in address order
    private void mapEveryVma(int core) {
      for (int owner = 0; owner < layout.threads(); owner++) {
        for (int v = 0; v < layout.vmas(); v++) {
          long start = firstVa + ((long) owner * layout.vmas() + v) * layout.spacing();
          kernel.mmap(
              core,
              mm,
              new Vma(
                  start, start + layout.vmaBytes(), PteFlags.WRITE, "thread" + owner + ".vma" + v));
        }
      }
      setupVa = layout.mainTouchesFirst() ? firstVa : -1;
    }

    // thread 0 with firstTouch=main: one page of the whole set per step, then the start signal
    private void touchNextPage(int core) {
      if (setupVa < 0) {
        signal.ready = true;
        return;
      }
      machine.access(core, setupVa, 8, AccessKind.WRITE);
      long next = setupVa + 4096;
      long offsetInVma = (next - firstVa) % layout.spacing();
      if (offsetInVma >= layout.vmaBytes()) {
        next += layout.spacing() - offsetInVma;
      }
      long end = firstVa + (long) layout.threads() * layout.vmas() * layout.spacing();
      setupVa = next < end ? next : -1;
    }
  }
}
