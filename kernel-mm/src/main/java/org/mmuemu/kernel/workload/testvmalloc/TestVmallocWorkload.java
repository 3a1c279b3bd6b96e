package org.mmuemu.kernel.workload.testvmalloc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.vmalloc.Vmalloc;
import org.mmuemu.kernel.workload.MmWorkloads;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadArgs;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.WorkloadParam;

/**
 * Linux's vmalloc test module (lib/test_vmalloc.c): {@code nr_threads} workers, each on its own
 * simulated core, run the test cases selected by {@code run_test_mask} (shuffled per worker unless
 * {@code sequential_test_order}), each {@code test_repeat_count} times; loop-based cases run {@code
 * test_loop_count} iterations. Every kernel call is one scheduler step, so the workers' calls
 * interleave in simulated time and contend for the vmalloc locks.
 *
 * <p>The result's {@code kernel.testVmalloc} lists, per worker and test, passed, failed and xfailed
 * repeats, the loop count, and the average simulated microseconds per repeat (cycles divided by the
 * core frequency), with the kernel's summary lines under {@code lines}.
 *
 * <p>{@code // MODEL:} {@code THREAD_ALIGN} is 16 KiB on x86 and 32 KiB on arm64 (vmap stacks); the
 * random source is the run's seed (one stream per worker); a worker that runs out of simulated
 * memory records the test as failed and stops.
 */
public final class TestVmallocWorkload implements Workload {
  static final long PAGE = Vmalloc.PAGE_BYTES;

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
        WorkloadParam.integer(
            "run_test_mask",
            "7",
            1,
            (1 << TestVmallocCase.values().length) - 1,
            "bit i selects test i: 1 fix_size, 2 full_fit, 4 long_busy_list, 8 random_size, 16 fix_align, "
                + "32 random_size_align, 64 align_shift (xfail), 128 pcpu_alloc, 256 kvfree_rcu_1_arg, "
                + "512 kvfree_rcu_2_arg, 1024 vm_map_ram"),
        WorkloadParam.integer(
            "nr_threads",
            null,
            1,
            65535,
            "workers, one per core from core 0 (default: every core)"),
        WorkloadParam.integer(
            "test_repeat_count", "1", 1, 1_000_000, "runs of each selected test per worker"),
        WorkloadParam.integer(
            "test_loop_count", "1000000", 1, 1_000_000_000, "iterations of loop-based tests"),
        WorkloadParam.integer(
            "nr_pages", "1", 1, 1 << 20, "pages for fix_size_alloc_test and vm_map_ram_test"),
        WorkloadParam.integer("use_huge", "0", 0, 1, "fix_size_alloc_test uses vmalloc_huge"),
        WorkloadParam.integer(
            "speculative_walk",
            "0",
            0,
            2,
            "1: before each fix_size/random_size iteration a worker's core speculatively walks the last areas "
                + "the workers freed that a purge has since flushed, each once, so its walk caches learn PTE tables a later "
                + "vmalloc_huge replaces; 2: it walks all of them again before every iteration, as a stale pointer "
                + "is speculated through again and again (shows x86FreePteTableFlush=noFlush)"),
        WorkloadParam.integer(
            "unmap_aliases_every",
            "0",
            0,
            1_000_000_000,
            "0: never; n: after every n-th iteration of vm_map_ram_test a worker calls"
                + " vm_unmap_aliases, as set_memory_* callers do before changing a page's"
                + " permissions (shows vmUnmapAliasesWalk=free-list)"),
        WorkloadParam.integer(
            "vm_map_ram_live",
            "1",
            1,
            1 << 20,
            "mappings vm_map_ram_test keeps mapped: each iteration unmaps the one mapped this many"
                + " iterations before (1: its own, as Linux's test does)"),
        WorkloadParam.integer(
            "ptdump_readers",
            "0",
            0,
            65535,
            "cores after the workers that read /sys/kernel/debug/kernel_page_tables (a ptdump walk "
                + "of the kernel page tables) over and over until the workers finish; with use_huge "
                + "their walks race pmd_free_pte_page (shows ptdumpSync=none)"),
        WorkloadParam.integer(
            "sequential_test_order",
            "0",
            0,
            1,
            "1: run tests in mask order, 0: shuffle per worker"),
        WorkloadParam.integer(
            "nr_pcpu_objects", "35000", 1, 10_000_000, "objects allocated by pcpu_alloc_test"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.coresParam(params, "nr_threads", machine, machine.coreCount(), 1);
    Settings settings =
        new Settings(
            params.intValue("run_test_mask"),
            threads,
            params.intValue("test_repeat_count"),
            params.integer("test_loop_count"),
            params.intValue("nr_pages"),
            params.flag("use_huge"),
            params.flag("sequential_test_order"),
            params.intValue("nr_pcpu_objects"),
            (int) params.integer("speculative_walk"),
            params.integer("unmap_aliases_every"),
            params.intValue("vm_map_ram_live"));
    Vmalloc vmalloc = kernel.vmalloc();
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    List<Worker> workers = new ArrayList<>();
    FreedAreas freed = new FreedAreas();
    for (int i = 0; i < threads; i++) {
      Worker worker =
          new Worker(
              i,
              kernel,
              vmalloc,
              settings,
              new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i),
              freed);
      workers.add(worker);
      programs[i] = worker;
    }
    int readers = params.intValue("ptdump_readers");
    if (threads + readers > machine.coreCount()) {
      throw new WorkloadException(
          "--param ptdump_readers="
              + readers
              + ": (expected: at most "
              + (machine.coreCount() - threads)
              + ", the cores left after nr_threads="
              + threads
              + " workers on this "
              + machine.coreCount()
              + "-core machine)");
    }
    for (int i = 0; i < readers; i++) {
      programs[threads + i] = new PtdumpReader(kernel, workers);
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
        double avgMicros =
            stats.repeats == 0
                ? 0
                : stats.cycles / (double) stats.repeats / (frequencyGHz * 1000.0);
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
        lines.add(
            String.format(
                Locale.ROOT,
                "worker%d: Summary: %s passed: %d failed: %d xfailed: %d repeat: %d loops: %d avg: %.3f usec",
                worker.index,
                stats.testCase.testName,
                stats.passed,
                stats.failed,
                stats.xfailed,
                stats.repeats,
                stats.loops,
                avgMicros));
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
      lines.add(
          String.format(
              Locale.ROOT, "All test took worker%d=%d cycles", worker.index, worker.totalCycles));
    }
    Map<String, Object> section = new LinkedHashMap<>();
    section.put("passed", passed);
    section.put("failed", failed);
    section.put("xfailed", xfailed);
    section.put("workers", perWorker);
    section.put("lines", lines);
    return Map.of("testVmalloc", section);
  }
}
