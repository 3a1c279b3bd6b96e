package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * NUMA balancing through {@code mmuemu run --workload numa-scan}: four threads, each touching only
 * its own two VMAs of 16 pages, while every 10 us one thread's {@code task_numa_work} makes PTEs
 * PROT_NONE. With 6.4's PID filter ({@code numaScanFilter=accessedPids}) the first two passes scan
 * every VMA and every later pass only the scanning thread's own two; before 6.4 ({@code all}) every
 * pass scans all eight, so more PTEs change, more flushes go out (arm64 TLBIs, x86 IPIs) and the
 * threads take more hinting faults. On a machine declared with two NUMA nodes the hinting faults
 * migrate the pages of the second node's threads there; a configuration whose nodes do not cover
 * the machine is refused with its JSON pointer.
 */
final class NumaScanCliTest {
  private static final int THREADS = 4;
  private static final int VMAS_PER_THREAD = 2;
  private static final int PAGES_PER_VMA = 16;
  private static final List<String> PARAMS =
      List.of(
          "threads=" + THREADS,
          "vmasPerThread=" + VMAS_PER_THREAD,
          "vmaBytes=64KiB",
          "accesses=40000",
          "scanPeriodUs=10");
  private static final String TWO_NODES =
      "/numaNodes=[{\"cores\":[0,1,2,3],\"memoryBytes\":\"4GiB\"},"
          + "{\"cores\":[4,5,6,7],\"memoryBytes\":\"4GiB\"}]";

  private static JsonNode run(String machine, String filter) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(machine, "numa-scan", "numaScanFilter", filter, PARAMS);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/violationCounts").size()).isZero();
    return run.result();
  }

  private static long kernel(JsonNode result, String counter) {
    return result.at("/kernel/" + counter).asLong();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void accessedPids_scansEveryVmaTwice_thenOnlyTheScanningThreadsOwn(String machine)
      throws Exception {
    JsonNode result = run(machine, "accessedPids");
    long scans = kernel(result, "numaScans");

    assertThat(scans).isGreaterThan(2);
    assertThat(kernel(result, "numaScanSeq")).isEqualTo(scans); // each pass covers the mm
    assertThat(kernel(result, "numaScanVmasSkippedByPid"))
        .isEqualTo((scans - 2) * (THREADS - 1) * VMAS_PER_THREAD);
    assertThat(kernel(result, "numaScanPtesScanned"))
        .isEqualTo((2L * THREADS + (scans - 2)) * VMAS_PER_THREAD * PAGES_PER_VMA);
    assertThat(kernel(result, "numaHintFaults")).isPositive();
    assertThat(kernel(result, "numaHintFaultsLocal")).isEqualTo(kernel(result, "numaHintFaults"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void all_scansEveryThreadsVmas_inEveryPass(String machine) throws Exception {
    JsonNode result = run(machine, "all");
    long scans = kernel(result, "numaScans");

    assertThat(result.at("/kernel/numaScanVmasSkippedByPid").isMissingNode()).isTrue();
    assertThat(kernel(result, "numaScanPtesScanned"))
        .isEqualTo(scans * THREADS * VMAS_PER_THREAD * PAGES_PER_VMA);
  }

  @Test
  void onArm64_all_changesMorePtesAndIssuesMoreTlbis() throws Exception {
    JsonNode filtered = run("arm64-neoverse-n1", "accessedPids");
    JsonNode unfiltered = run("arm64-neoverse-n1", "all");

    assertMoreScanWork(filtered, unfiltered);
    assertThat(unfiltered.at("/maintenance/byInstruction/TLBI VALE1IS").asLong())
        .isGreaterThan(filtered.at("/maintenance/byInstruction/TLBI VALE1IS").asLong());
    assertThat(unfiltered.at("/maintenance/byInstruction/DSB ISH").asLong())
        .isGreaterThan(filtered.at("/maintenance/byInstruction/DSB ISH").asLong());
  }

  @Test
  void onX86_all_changesMorePtesAndSendsMoreIpis() throws Exception {
    JsonNode filtered = run("x86-skylake", "accessedPids");
    JsonNode unfiltered = run("x86-skylake", "all");

    assertMoreScanWork(filtered, unfiltered);
    assertThat(unfiltered.at("/maintenance/ipis").asLong())
        .isGreaterThan(filtered.at("/maintenance/ipis").asLong());
  }

  private static void assertMoreScanWork(JsonNode filtered, JsonNode unfiltered) {
    for (String counter : List.of("numaPteUpdates", "numaScanFlushes", "numaHintFaults")) {
      assertThat(kernel(unfiltered, counter)).as(counter).isGreaterThan(kernel(filtered, counter));
    }
  }

  @Test
  void onTwoNodes_theSecondNodesThreadsPagesMigrateThere_once() throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            "arm64-neoverse-n1",
            "numa-scan",
            "numaScanFilter",
            "accessedPids",
            List.of("vmaBytes=64KiB", "accesses=40000", "scanPeriodUs=10", "firstTouch=main"),
            TWO_NODES);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    JsonNode result = run.result();
    // thread 0 (node 0) faulted every page in; threads 4-7 run on node 1
    assertThat(kernel(result, "numaPagesMigrated")).isEqualTo(4L * 2 * PAGES_PER_VMA);
    assertThat(kernel(result, "numaHintFaultsLocal"))
        .isEqualTo(kernel(result, "numaHintFaults") - kernel(result, "numaPagesMigrated"));
    // the migrated pages are counted on node 1 (node 0 also holds the page tables and the rest)
    assertThat(kernel(result, "nodeFramesInUse/node1")).isGreaterThanOrEqualTo(4L * 2 * 16);
    assertThat(kernel(result, "nodeFramesInUse/node0")).isGreaterThanOrEqualTo(4L * 2 * 16);
  }

  @Test
  void onTwoNodes_aMigrationBeforeTheScansFlushCompleted_isCaughtByTheOracle() throws Exception {
    // tlbFlushWait=none: the scan's TLBIs are not waited for, so a page another thread migrates
    // right after is freed while a third core may still hold its translation
    List<String> params = List.of("accesses=200000", "scanPeriodUs=50", "sharedFraction=0.1");
    CliTestSupport.VariantRun waiting =
        CliTestSupport.runVariant(
            "arm64-neoverse-n1", "numa-scan", "tlbFlushWait", "complete", params, TWO_NODES);
    CliTestSupport.VariantRun notWaiting =
        CliTestSupport.runVariant(
            "arm64-neoverse-n1", "numa-scan", "tlbFlushWait", "none", params, TWO_NODES);

    assertThat(waiting.exitCode()).as(waiting.err()).isEqualTo(ExitCodes.OK);
    assertThat(notWaiting.exitCode()).as(notWaiting.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(notWaiting.result().at("/violationCounts/STALE_TLB_USE").asLong()).isPositive();
  }

  @Test
  void nodesThatMissACore_reuseOne_orLackMemory_areRefusedWithTheirPointers() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "numa-scan",
            "--set",
            "/numaNodes=[{\"cores\":[0,1,2,9],\"memoryBytes\":\"4GiB\"},"
                + "{\"cores\":[3,4,5,2],\"memoryBytes\":\"3GiB\"}]");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err().lines())
        .contains(
            "run: /numaNodes/0/cores/3: 9 (expected: a core id from 0 to 7 (/cores is 8))",
            "run: /numaNodes/1/cores/3: 2 (expected: a core in no other node (it is already in"
                + " /numaNodes/0))",
            "run: /numaNodes: cores [6, 7] in no node (expected: every core from 0 to 7 in one"
                + " node)",
            "run: /numaNodes: nodes with 7GiB of memory in all (expected: their memory adding up"
                + " to /memoryBytes, 8GiB)")
        .noneMatch(line -> line.contains("Exception"));
  }
}
