package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * fork, copy-on-write, FAULT_FLAG_UNSHARE and the {@code fault_around_bytes} tunable through {@code
 * mmuemu run --workload fork-cow}, the path a user takes (docs/faults.md).
 */
final class ForkCowCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode run(String machine, int expectedExit, String... settings)
      throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("run", "--machine", machine, "--workload", "fork-cow", "--json", "--quiet"));
    for (String setting : settings) {
      args.add("--set");
      args.add(setting);
    }
    CliTestSupport.Outcome outcome = CliTestSupport.run(args.toArray(String[]::new));
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(expectedExit);
    return JSON.readTree(outcome.out());
  }

  private static long kernel(JsonNode result, String counter) {
    return result.path("kernel").path(counter).asLong();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void defaults_forkCopyAndReuseWithoutViolations(String machine) throws Exception {
    JsonNode result = run(machine, ExitCodes.OK);

    assertThat(result.path("violationCounts").size()).isZero();
    assertThat(kernel(result, "forks")).isEqualTo(8);
    assertThat(result.path("latency").path("fork").path("count").asLong()).isEqualTo(8);
    // every fork flushes the parent's mm once (more flush_tlb_mm calls come from exits)
    assertThat(result.path("latency").path("flush_tlb_mm").path("count").asLong())
        .isGreaterThanOrEqualTo(8);
    assertThat(kernel(result, "forkPtesWriteProtected")).isPositive();
    assertThat(kernel(result, "forkVmasSkipped")).isEqualTo(8); // the file mapping, refaulted
    assertThat(kernel(result, "cowCopies")).isPositive();
    assertThat(kernel(result, "cowReuseOnlyReference")).isPositive();
    assertThat(kernel(result, "cowReuseExclusive")).isPositive();
    // each COW copy flushes the old translation on the mm's CPUs (unshare copies too)
    assertThat(result.path("latency").path("flush_tlb_range").path("count").asLong())
        .isEqualTo(kernel(result, "cowCopies") + kernel(result, "unshareCopies"));
    assertThat(kernel(result, "processesExited")).isEqualTo(9);
  }

  /**
   * The 6.2 extension of FAULT_FLAG_UNSHARE: the 8 pinned page-cache pages of the private file
   * mapping are unshared before they are pinned, so the process's stores keep the pins coherent;
   * before 6.2 they are pinned as they are and every store leaves a pin behind.
   */
  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void unshareScope_anonOnly_leavesPinsOfFilePagesStale(String machine) throws Exception {
    JsonNode fixed = run(machine, ExitCodes.OK);
    JsonNode old = run(machine, ExitCodes.OK, "/kernel/variants/unshareScope=anonOnly");

    assertThat(kernel(fixed, "gupPins")).isEqualTo(16);
    assertThat(kernel(fixed, "unshareCopies")).isGreaterThanOrEqualTo(8);
    assertThat(kernel(fixed, "gupPinsStale")).isZero();
    assertThat(kernel(old, "gupPins")).isEqualTo(16);
    assertThat(kernel(old, "gupPinsStale")).isEqualTo(8);
    assertThat(kernel(fixed, "gupUnshareFaults") - kernel(old, "gupUnshareFaults")).isEqualTo(8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void faultAroundBytes_setsHowManyCachedPagesAChildsReadFaultMaps(String machine)
      throws Exception {
    JsonNode window = run(machine, ExitCodes.OK);
    JsonNode off = run(machine, ExitCodes.OK, "/kernel/tunables/faultAroundBytes=4096");

    // the parent faults each of the 16 file pages in (none cached yet); each of the 8 children
    // then reads the cached file: one fault per 16-page window, or one per page
    assertThat(kernel(window, "fileFaults")).isEqualTo(16 + 8);
    assertThat(kernel(window, "faultAroundPages")).isEqualTo(8 * 15);
    assertThat(kernel(off, "fileFaults")).isEqualTo(16 + 8 * 16);
    assertThat(kernel(off, "faultAroundPages")).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/kernel/tunables/faultAroundBytes=4MiB", "/kernel/tunables/thp=yes"})
  void badTunables_exitTwoNamingThePointer(String setting) {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run", "--machine", "arm64-neoverse-n1", "--workload", "fork-cow", "--set", setting);

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains(setting.substring(0, setting.indexOf('='))).hasLineCount(1);
  }

  @org.junit.jupiter.api.Test
  void threadsLeavingNoCoreForChildren_exitTwo() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "fork-cow",
            "--param",
            "threads=8");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .contains("--param threads=8: (expected: 1 to 7, leaving a core for the children)");
  }

  /**
   * Transparent huge pages: with {@code thp=always} each stream thread's 2 MiB working set is one
   * huge page, so one fault and one TLB entry per thread replace 512 of each.
   */
  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void thpAlways_mapsEachStreamThreadWithOneHugePage(String machine) throws Exception {
    CliTestSupport.Outcome base =
        CliTestSupport.run(
            "run", "--machine", machine, "--workload", "stream", "--json", "--quiet");
    CliTestSupport.Outcome huge =
        CliTestSupport.run(
            "run",
            "--machine",
            machine,
            "--workload",
            "stream",
            "--json",
            "--quiet",
            "--set",
            "/kernel/tunables/thp=always");
    JsonNode baseResult = JSON.readTree(base.out());
    JsonNode hugeResult = JSON.readTree(huge.out());

    assertThat(huge.exitCode()).isEqualTo(ExitCodes.OK);
    assertThat(kernel(baseResult, "thpFaultAlloc")).isZero();
    assertThat(kernel(hugeResult, "thpFaultAlloc")).isEqualTo(8);
    // 8 huge pages, plus the shared code pages, instead of 512 pages per thread
    assertThat(kernel(hugeResult, "pageFaults")).isEqualTo(8 + 4);
    assertThat(hugeResult.path("walks").path("count").asLong())
        .isLessThan(baseResult.path("walks").path("count").asLong() / 100);
    assertThat(hugeResult.path("cycles").path("total").asLong())
        .isLessThan(baseResult.path("cycles").path("total").asLong());
  }

  /** {@code thp=madvise} (the default) backs only advised VMAs; fork splits before it shares. */
  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void thpMadvise_backsTheAdvisedHeap_andForkSplitsIt(String machine) throws Exception {
    JsonNode advised = runForkCow(machine, "heapAdvice=hugepage", "/kernel/tunables/thp=madvise");
    JsonNode never = runForkCow(machine, "heapAdvice=hugepage", "/kernel/tunables/thp=never");
    JsonNode notAdvised = runForkCow(machine, "heapAdvice=none", "/kernel/tunables/thp=madvise");

    assertThat(kernel(advised, "thpFaultAlloc")).isEqualTo(2);
    assertThat(kernel(advised, "thpSplitPmd")).isEqualTo(2);
    assertThat(advised.path("violationCounts").size()).isZero();
    assertThat(kernel(never, "thpFaultAlloc")).isZero();
    assertThat(kernel(notAdvised, "thpFaultAlloc")).isZero();
    assertThat(kernel(advised, "pageFaults")).isLessThan(kernel(never, "pageFaults") / 10);
  }

  private static JsonNode runForkCow(String machine, String param, String setting)
      throws Exception {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            machine,
            "--workload",
            "fork-cow",
            "--json",
            "--quiet",
            "--param",
            "heapBytes=4MiB",
            "--param",
            param,
            "--set",
            setting);
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    return JSON.readTree(outcome.out());
  }
}
