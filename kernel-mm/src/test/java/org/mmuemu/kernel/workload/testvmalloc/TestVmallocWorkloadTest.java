package org.mmuemu.kernel.workload.testvmalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadArgs;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.registry.Workloads;

/**
 * Runs every test_vmalloc case, each with two workers on a two-core machine of each ISA, with small
 * loop counts (the defaults are for benchmarks): each must pass (align_shift_alloc_test must xfail)
 * without any oracle violation, and the report must carry the kernel's counters.
 */
final class TestVmallocWorkloadTest {

  // A kernel with its kernel threads, default variants, cores and memory as given
  private static Kernel boot(String isa, int cores, long memoryBytes) {
    return KernelBoot.on(isa)
        .cores(cores)
        .memoryBytes(memoryBytes)
        .variants(Map.of())
        .kernelThreads()
        .boot();
  }

  /** Runs the workload; returns the testVmalloc section and the kernel. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> run(Kernel kernel, Map<String, String> given)
      throws WorkloadException {
    Workload workload = Workloads.get("test_vmalloc");
    WorkloadArgs params = WorkloadArgs.resolve(workload, given);
    Workload.PreparedWorkload prepared = workload.prepare(kernel, params, 7);
    kernel.machine().run(prepared.programs(), () -> false);
    return (Map<String, Object>) prepared.counters().get("testVmalloc");
  }

  @ParameterizedTest(name = "{0} mask {1}")
  @CsvSource({
    "arm64, 1",
    "arm64, 2",
    "arm64, 4",
    "arm64, 8",
    "arm64, 16",
    "arm64, 32",
    "arm64, 64",
    "arm64, 128",
    "arm64, 256",
    "arm64, 512",
    "arm64, 1024",
    "x86, 1",
    "x86, 2",
    "x86, 4",
    "x86, 8",
    "x86, 16",
    "x86, 32",
    "x86, 64",
    "x86, 128",
    "x86, 256",
    "x86, 512",
    "x86, 1024"
  })
  void everyCase_smallLoops_passesOnBothWorkersWithoutViolations(String isa, int mask)
      throws Exception {
    Kernel kernel = boot(isa, 2, 512L << 20);
    Map<String, Object> report =
        run(
            kernel,
            Map.of(
                "run_test_mask",
                Integer.toString(mask),
                "test_loop_count",
                "20",
                "nr_pcpu_objects",
                "400",
                "nr_pages",
                "3",
                "test_repeat_count",
                "2"));
    boolean xfail = mask == 64;
    assertThat(report).containsEntry("failed", 0L).containsEntry(xfail ? "xfailed" : "passed", 4L);
    assertThat(kernel.machine().oracle().total()).isZero();
    assertThat(kernel.machine().unresolvedFaults()).isZero();
    List<?> workers = (List<?>) report.get("workers");
    assertThat(workers).hasSize(2);
    Map<?, ?> test = (Map<?, ?>) ((List<?>) ((Map<?, ?>) workers.get(0)).get("tests")).get(0);
    assertThat(test.get("repeats")).isEqualTo(2L);
    assertThat((Double) test.get("avgMicros")).isPositive();
  }

  @Test
  void vmMapRamTest_goesThroughVmapBlocks_andFullFitPurges() throws Exception {
    Kernel kernel = boot("arm64", 1, 256L << 20);
    run(kernel, Map.of("run_test_mask", Integer.toString(2 | 1024), "test_loop_count", "600"));
    Map<String, Object> counters = kernel.counters();
    assertThat(counters)
        .containsEntry("vmapBlockAllocs", 600L)
        .containsEntry("vmapBlocksCreated", 1L);
    assertThat((Long) counters.get("vmapPurges"))
        .as("the junk frees pass lazy_max_pages")
        .isPositive();
    assertThat(counters).containsEntry("vmapLazyMaxPages", 8192L);
  }

  /**
   * full_fit_alloc_test when memory runs out during its fill: each worker fails, frees what it
   * allocated exactly once (not the areas another worker got at addresses it had freed) and gives
   * every data page back.
   */
  @Test
  void fullFit_thatRunsOutOfMemory_failsAndFreesWhatItAllocated() throws Exception {
    Kernel kernel = boot("arm64", 2, 48L << 20);
    long framesBefore = kernel.machine().memory().framesInUse();

    Map<String, Object> report = run(kernel, Map.of("run_test_mask", "2", "test_loop_count", "20"));

    assertThat(report).containsEntry("failed", 2L);
    assertThat(kernel.machine().oracle().total()).isZero();
    Map<String, Object> counters = kernel.counters();
    assertThat(counters).containsEntry("vfreeBadAddress", 0L);
    assertThat((Long) counters.get("vmallocFailures")).isPositive();
    assertThat((Long) counters.get("vfreeCalls"))
        .as("every area allocated is freed once")
        .isEqualTo((Long) counters.get("vmallocCalls") - (Long) counters.get("vmallocFailures"));
    assertThat(kernel.machine().memory().framesInUse()).isLessThanOrEqualTo(framesBefore + 64);
  }

  @Test
  void useHuge_withAPmdOfPages_mapsBlocks() throws Exception {
    Kernel kernel = boot("x86", 1, 256L << 20);
    Map<String, Object> report =
        run(
            kernel,
            Map.of(
                "run_test_mask", "1", "test_loop_count", "5", "use_huge", "1", "nr_pages", "512"));
    assertThat(report).containsEntry("passed", 1L);
    assertThat(kernel.counters()).containsEntry("vmapHugeBlocksMapped", 5L);
  }

  @Test
  void sequentialOrder_runsTestsInMaskOrder_otherwiseEachWorkerShuffles() throws Exception {
    Map<String, String> params =
        new HashMap<>(
            Map.of(
                "run_test_mask",
                "1016",
                "test_loop_count",
                "2",
                "nr_pcpu_objects",
                "10",
                "sequential_test_order",
                "1"));
    List<String> maskOrder =
        List.of(
            "random_size_alloc_test",
            "fix_align_alloc_test",
            "random_size_align_alloc_test",
            "align_shift_alloc_test",
            "pcpu_alloc_test",
            "kvfree_rcu_1_arg_vmalloc_test",
            "kvfree_rcu_2_arg_vmalloc_test");
    Map<String, Object> sequential = run(boot("x86", 2, 256L << 20), params);
    assertThat(runOrder(sequential, 0)).isEqualTo(maskOrder);
    assertThat(runOrder(sequential, 1)).isEqualTo(maskOrder);
    List<?> lines = (List<?>) sequential.get("lines");
    assertThat(lines.get(0).toString())
        .startsWith("worker0: Summary: random_size_alloc_test passed: 1 failed: 0");
    assertThat(lines.get(7).toString()).startsWith("All test took worker0=");
    params.put("sequential_test_order", "0");
    Map<String, Object> shuffled = run(boot("x86", 2, 256L << 20), params);
    assertThat(runOrder(shuffled, 0)).containsExactlyInAnyOrderElementsOf(List.copyOf(maskOrder));
    assertThat(List.of(runOrder(shuffled, 0), runOrder(shuffled, 1)))
        .as("7! orders: a seed that shuffles")
        .anySatisfy(order -> assertThat(order).isNotEqualTo(maskOrder));
  }

  private static List<Object> runOrder(Map<String, Object> report, int worker) {
    @SuppressWarnings("unchecked")
    List<Object> order =
        (List<Object>) ((Map<?, ?>) ((List<?>) report.get("workers")).get(worker)).get("runOrder");
    return order;
  }

  @Test
  void sameSeed_sameReport() throws Exception {
    Map<String, String> params =
        Map.of("run_test_mask", "2047", "test_loop_count", "5", "nr_pcpu_objects", "50");
    Object first = run(boot("arm64", 2, 512L << 20), params);
    Object second = run(boot("arm64", 2, 512L << 20), params);
    assertThat(second).isEqualTo(first);
  }

  @Test
  void moreWorkersThanCores_isRejectedNamingTheParam() {
    Kernel kernel = boot("arm64", 2, 256L << 20);
    assertThatThrownBy(() -> run(kernel, Map.of("nr_threads", "3")))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("--param nr_threads=3");
  }

  @Test
  void noViolation_kindsAreStaleOrAlias_underContention() throws Exception {
    Kernel kernel = boot("x86", 2, 512L << 20);
    run(kernel, Map.of("run_test_mask", "8", "test_loop_count", "400"));
    assertThat(kernel.machine().oracle().count(ViolationKind.STALE_TLB_USE)).isZero();
    assertThat(kernel.machine().oracle().count(ViolationKind.UNFLUSHED_ALIAS)).isZero();
    assertThat((Long) kernel.counters().get("vmapLockWaitCycles")).isPositive();
  }
}
