package org.mmuemu.kernel.workload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.vmalloc.Vmalloc;

/**
 * Linux's vmalloc test module (lib/test_vmalloc.c): {@code nr_threads} workers, each on its own
 * simulated core, run the test cases selected by {@code run_test_mask} (shuffled per worker
 * unless {@code sequential_test_order}), each {@code test_repeat_count} times; loop-based cases
 * run {@code test_loop_count} iterations. Every kernel call is one scheduler step, so the
 * workers' calls interleave in simulated time and contend for the vmalloc locks.
 *
 * <p>The result's {@code kernel.testVmalloc} lists, per worker and test, passed, failed and
 * xfailed repeats, the loop count, and the average simulated microseconds per repeat (cycles
 * divided by the core frequency), with the kernel's summary lines under {@code lines}.
 *
 * <p>{@code // MODEL:} {@code THREAD_ALIGN} is 16 KiB on x86 and 32 KiB on arm64 (vmap stacks);
 * the random source is the run's seed (one stream per worker); a worker that runs out of
 * simulated memory records the test as failed and stops.
 */
public final class TestVmallocWorkload implements Workload {
  private static final long PAGE = Vmalloc.PAGE_BYTES;

  /** The test cases, in mask-bit order. */
  enum Case {
    FIX_SIZE_ALLOC("fix_size_alloc_test", false),
    FULL_FIT_ALLOC("full_fit_alloc_test", false),
    LONG_BUSY_LIST_ALLOC("long_busy_list_alloc_test", false),
    RANDOM_SIZE_ALLOC("random_size_alloc_test", false),
    FIX_ALIGN_ALLOC("fix_align_alloc_test", false),
    RANDOM_SIZE_ALIGN_ALLOC("random_size_align_alloc_test", false),
    ALIGN_SHIFT_ALLOC("align_shift_alloc_test", true),
    PCPU_ALLOC("pcpu_alloc_test", false),
    KVFREE_RCU_1_ARG("kvfree_rcu_1_arg_vmalloc_test", false),
    KVFREE_RCU_2_ARG("kvfree_rcu_2_arg_vmalloc_test", false),
    VM_MAP_RAM("vm_map_ram_test", false);

    final String testName;
    final boolean xfail;

    Case(String testName, boolean xfail) {
      this.testName = testName;
      this.xfail = xfail;
    }

    int mask() {
      return 1 << ordinal();
    }
  }

  @Override
  public String name() {
    return "test_vmalloc";
  }

  @Override
  public String description() {
    return "Linux's lib/test_vmalloc.c: workers, one per core, run the selected vmalloc test cases and report "
        + "passed/failed/xfailed and average time per test";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer("run_test_mask", "7", 1, (1 << Case.values().length) - 1,
            "bit i selects test i: 1 fix_size, 2 full_fit, 4 long_busy_list, 8 random_size, 16 fix_align, "
                + "32 random_size_align, 64 align_shift (xfail), 128 pcpu_alloc, 256 kvfree_rcu_1_arg, "
                + "512 kvfree_rcu_2_arg, 1024 vm_map_ram"),
        WorkloadParam.integer("nr_threads", null, 1, 65535, "workers, one per core from core 0 (default: every core)"),
        WorkloadParam.integer("test_repeat_count", "1", 1, 1_000_000, "runs of each selected test per worker"),
        WorkloadParam.integer("test_loop_count", "1000000", 1, 1_000_000_000, "iterations of loop-based tests"),
        WorkloadParam.integer("nr_pages", "1", 1, 1 << 20,
            "pages for fix_size_alloc_test and vm_map_ram_test"),
        WorkloadParam.integer("use_huge", "0", 0, 1, "fix_size_alloc_test uses vmalloc_huge"),
        WorkloadParam.integer("speculative_walk", "0", 0, 1,
            "1: before each fix_size/random_size iteration a worker's core speculatively walks the last areas "
                + "the workers freed that a purge has since flushed, so its walk caches learn PTE tables a later vmalloc_huge "
                + "replaces (shows x86FreePteTableFlush=noFlush)"),
        WorkloadParam.integer("sequential_test_order", "0", 0, 1, "1: run tests in mask order, 0: shuffle per worker"),
        WorkloadParam.integer("nr_pcpu_objects", "35000", 1, 10_000_000, "objects allocated by pcpu_alloc_test"));
  }

  /** The resolved parameters of one run. */
  record Settings(int mask, int threads, int repeats, long loops, int nrPages, boolean useHuge, boolean sequential,
      int pcpuObjects, boolean speculativeWalk) {}

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed) throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.coresParam(params, "nr_threads", machine, machine.coreCount(), 1);
    Settings settings = new Settings(params.intValue("run_test_mask"), threads,
        params.intValue("test_repeat_count"), params.integer("test_loop_count"),
        params.intValue("nr_pages"), params.flag("use_huge"),
        params.flag("sequential_test_order"), params.intValue("nr_pcpu_objects"),
        params.flag("speculative_walk"));
    Vmalloc vmalloc = kernel.vmalloc();
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    List<Worker> workers = new ArrayList<>();
    FreedAreas freed = new FreedAreas();
    for (int i = 0; i < threads; i++) {
      Worker worker = new Worker(i, kernel, vmalloc, settings, new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i),
          freed);
      workers.add(worker);
      programs[i] = worker;
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("nr_threads", Integer.toString(threads));
    double frequencyGHz = machine.spec().frequencyGHz();
    return PreparedWorkload.of(programs, effective, () -> report(workers, frequencyGHz));
  }

  private static Map<String, Object> report(List<Worker> workers, double frequencyGHz) {
    List<Object> perWorker = new ArrayList<>();
    List<Object> lines = new ArrayList<>();
    long passed = 0;
    long failed = 0;
    long xfailed = 0;
    for (Worker worker : workers) {
      Map<String, Object> w = new LinkedHashMap<>();
      w.put("worker", (long) worker.index);
      w.put("core", (long) worker.index);
      List<Object> tests = new ArrayList<>();
      for (TestStats stats : worker.stats) {
        double avgMicros = stats.repeats == 0 ? 0 : stats.cycles / (double) stats.repeats / (frequencyGHz * 1000.0);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("test", stats.testCase.testName);
        t.put("mask", (long) stats.testCase.mask());
        t.put("passed", stats.passed);
        t.put("failed", stats.failed);
        t.put("xfailed", stats.xfailed);
        t.put("repeats", stats.repeats);
        t.put("loops", stats.loops);
        t.put("cycles", stats.cycles);
        t.put("avgMicros", Math.round(avgMicros * 1000) / 1000.0);
        tests.add(t);
        lines.add(String.format(Locale.ROOT,
            "worker%d: Summary: %s passed: %d failed: %d xfailed: %d repeat: %d loops: %d avg: %.3f usec",
            worker.index, stats.testCase.testName, stats.passed, stats.failed, stats.xfailed, stats.repeats,
            stats.loops, avgMicros));
        passed += stats.passed;
        failed += stats.failed;
        xfailed += stats.xfailed;
      }
      w.put("tests", tests);
      List<Object> runOrder = new ArrayList<>();
      for (int position : worker.order) {
        runOrder.add(worker.stats.get(position).testCase.testName);
      }
      w.put("runOrder", runOrder);
      w.put("cycles", worker.totalCycles);
      if (worker.error != null) {
        w.put("error", worker.error);
      }
      perWorker.add(w);
      lines.add(String.format(Locale.ROOT, "All test took worker%d=%d cycles", worker.index, worker.totalCycles));
    }
    Map<String, Object> section = new LinkedHashMap<>();
    section.put("passed", passed);
    section.put("failed", failed);
    section.put("xfailed", xfailed);
    section.put("workers", perWorker);
    section.put("lines", lines);
    return Map.of("testVmalloc", section);
  }

  /** Per worker and test: the kernel's summary counters. */
  private static final class TestStats {
    final Case testCase;
    long passed;
    long failed;
    long xfailed;
    long repeats;
    long loops;
    long cycles;

    TestStats(Case testCase, long loops) {
      this.testCase = testCase;
      this.loops = loops;
    }
  }

  /** One kthread {@code vmalloc_test/<i>}: its tests in its order, one kernel call per step. */
  private static final class Worker implements CoreProgram {
    final int index;
    final Kernel kernel;
    final Vmalloc vmalloc;
    final Machine machine;
    final Settings settings;
    final SplittableRandom random;
    final List<TestStats> stats = new ArrayList<>();
    final int[] order;
    int position;
    int repeat;
    TestRun current;
    long repeatStartCycle;
    final FreedAreas freed;
    long walkedSeq;
    long startCycle = -1;
    long totalCycles;
    String error;

    Worker(int index, Kernel kernel, Vmalloc vmalloc, Settings settings, SplittableRandom random, FreedAreas freed) {
      this.index = index;
      this.freed = freed;
      this.kernel = kernel;
      this.vmalloc = vmalloc;
      this.machine = kernel.machine();
      this.settings = settings;
      this.random = random;
      List<Case> selected = new ArrayList<>();
      for (Case c : Case.values()) {
        if ((settings.mask() & c.mask()) != 0) {
          selected.add(c);
          stats.add(new TestStats(c, settings.loops()));
        }
      }
      order = new int[selected.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      if (!settings.sequential()) {
        for (int i = order.length - 1; i > 0; i--) { // shuffle_array
          int j = random.nextInt(i + 1);
          int swap = order[i];
          order[i] = order[j];
          order[j] = swap;
        }
      }
    }

    @Override
    public boolean step(int core) {
      if (startCycle < 0) {
        kernel.switchToKernelThread(core);
        startCycle = machine.now(core);
      }
      if (position < order.length) {
        TestStats test = stats.get(order[position]);
        if (current == null) {
          current = newRun(test.testCase, core);
          repeatStartCycle = machine.now(core);
        }
        boolean more;
        try {
          more = current.step(core);
        } catch (SimulatedOutOfMemoryException e) {
          error = test.testCase.testName + ": simulated memory exhausted (" + e.getMessage() + ")";
          current.failed = true;
          more = false;
          position = order.length - 1;
          repeat = settings.repeats() - 1;
        }
        if (!more) {
          test.repeats++;
          test.cycles += machine.now(core) - repeatStartCycle;
          if (!current.failed) {
            test.passed++;
          } else if (test.testCase.xfail) {
            test.xfailed++;
          } else {
            test.failed++;
          }
          current = null;
          if (++repeat == settings.repeats()) {
            repeat = 0;
            position++;
          }
        }
        if (position < order.length) {
          return true;
        }
      }
      vmalloc.runRcuCallbacks(core, true); // rcu_barrier before the module goes away
      totalCycles = machine.now(core) - startCycle;
      return false;
    }

    private TestRun newRun(Case testCase, int core) {
      return switch (testCase) {
        case FIX_SIZE_ALLOC -> new LoopRun(settings.loops()) {
          @Override
          boolean iteration(int c) {
            speculateOnFreed(c);
            long bytes = settings.nrPages() * PAGE;
            long va = settings.useHuge() ? vmalloc.vmallocHuge(c, bytes) : vmalloc.vmalloc(c, bytes);
            return touchAndFree(c, va);
          }
        };
        case FULL_FIT_ALLOC -> new FullFitRun(this);
        case LONG_BUSY_LIST_ALLOC -> new LongBusyListRun(this);
        case RANDOM_SIZE_ALLOC -> new LoopRun(settings.loops()) {
          @Override
          boolean iteration(int c) {
            speculateOnFreed(c);
            return touchAndFree(c, vmalloc.vmalloc(c, (1 + random.nextInt(100)) * PAGE));
          }
        };
        case FIX_ALIGN_ALLOC -> new LoopRun(settings.loops()) {
          @Override
          boolean iteration(int c) {
            long threadAlign = kernel.arch().layout().threadAlignBytes();
            long va = vmalloc.vmallocNode(c, 5 * PAGE, threadAlign << 1, true);
            vmalloc.vfree(c, va);
            return va != 0;
          }
        };
        case RANDOM_SIZE_ALIGN_ALLOC -> new LoopRun(settings.loops()) {
          @Override
          boolean iteration(int c) {
            int rnd = random.nextInt(256);
            long va = vmalloc.vmallocNode(c, ((rnd % 10) + 1) * PAGE, 1L << (rnd % 23), true);
            vmalloc.vfree(c, va);
            return va != 0;
          }
        };
        case ALIGN_SHIFT_ALLOC -> new LoopRun(Long.SIZE) {
          int shift;

          @Override
          boolean iteration(int c) {
            long va = vmalloc.vmallocNode(c, PAGE, 1L << shift++, true);
            vmalloc.vfree(c, va);
            return va != 0;
          }
        };
        case PCPU_ALLOC -> new PcpuRun(this);
        case KVFREE_RCU_1_ARG, KVFREE_RCU_2_ARG -> new LoopRun(settings.loops()) {
          @Override
          boolean iteration(int c) {
            long va = vmalloc.vmalloc(c, PAGE);
            if (va == 0) {
              return false;
            }
            machine.access(c, va, 1, AccessKind.WRITE);
            vmalloc.kvfreeRcu(c, va);
            return true;
          }
        };
        case VM_MAP_RAM -> new VmMapRamRun(this);
      };
    }

    boolean touchAndFree(int core, long va) {
      if (va == 0) {
        return false;
      }
      machine.access(core, va, 1, AccessKind.WRITE);
      long purgesBefore = vmalloc.purgeCount();
      vmalloc.vfree(core, va);
      freed.add(va, purgesBefore);
      return true;
    }

    // Stale pointers to areas the workers freed: once a purge has flushed an area and made its
    // range free again, each CPU may walk it speculatively (once), and its walk caches learn the
    // tables left there. Before the purge a TLB may still hold the lazily freed entry, which a
    // speculative walk would not get past, so those wait.
    void speculateOnFreed(int core) {
      if (settings.speculativeWalk()) {
        walkedSeq = freed.walkFlushed(walkedSeq, vmalloc.purgeCount(), va -> kernel.speculativeWalk(core, va));
      }
    }
  }

  /** The last areas the workers freed, with the purges counted before each free. */
  private static final class FreedAreas {
    // as many as a PDE cache has entries
    private final long[] vas = new long[32];
    private final long[] purgesBefore = new long[32];
    private long added;

    void add(long va, long purges) {
      int slot = (int) (added++ % vas.length);
      vas[slot] = va;
      purgesBefore[slot] = purges;
    }

    /**
     * Passes each area recorded after number {@code walkedSeq} that a purge has flushed (fewer
     * purges before its free than {@code purges}) to {@code walk}, in order.
     *
     * @return the number of the last one passed
     */
    long walkFlushed(long walkedSeq, long purges, java.util.function.LongConsumer walk) {
      long seq = Math.max(walkedSeq, added - vas.length);
      while (seq < added && purgesBefore[(int) (seq % vas.length)] < purges) {
        walk.accept(vas[(int) (seq % vas.length)]);
        seq++;
      }
      return seq;
    }
  }

  /** One repeat of one test: a few kernel calls per step. */
  private abstract static class TestRun {
    boolean failed;

    /** @return whether more steps remain */
    abstract boolean step(int core);
  }

  /** A test whose body is {@code loops} iterations that each stop the test on failure. */
  private abstract static class LoopRun extends TestRun {
    private final long loops;
    private long done;

    LoopRun(long loops) {
      this.loops = loops;
    }

    abstract boolean iteration(int core);

    @Override
    boolean step(int core) {
      if (!iteration(core)) {
        failed = true;
        return false;
      }
      return ++done < loops;
    }
  }

  /**
   * full_fit_alloc_test: {@code lazy_max_pages()} pairs of one-page areas, the second of each
   * freed (holes between live areas, a full lazy list), then the loop reuses the holes.
   */
  private static final class FullFitRun extends TestRun {
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
          } else if (++index == ptr.length) {
            phase = 1;
            index = 0;
          }
        }
        case 1 -> { // free the junk
          w.vmalloc.vfree(core, junk[index]);
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
          if (phase == 3 && failed) {
            for (int i = 0; i < junk.length; i++) { // a failed fill leaves junk live too
              if (junk[i] != 0 && w.vmalloc.findArea(junk[i]) != null) {
                w.vmalloc.vfree(core, junk[i]);
              }
            }
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
  }

  /** long_busy_list_alloc_test: 15,000 live one-page areas, then 100-page and 1-page pairs. */
  private static final class LongBusyListRun extends TestRun {
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

  /** pcpu_alloc_test: {@code nr_pcpu_objects} per-CPU objects of random size and alignment, then all freed. */
  private static final class PcpuRun extends TestRun {
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

  /** vm_map_ram_test: {@code nr_pages} frames mapped, touched and unmapped in a loop. */
  private static final class VmMapRamRun extends TestRun {
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
}
