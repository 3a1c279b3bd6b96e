package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The command line as a user meets it: exit codes, one-line errors without stack traces, results
 * written atomically, and the same result twice for the same inputs.
 */
final class CliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] SMALL_STREAM = {
    "--workload",
    "stream",
    "--param",
    "accesses=3000",
    "--param",
    "workingSetBytes=256KiB",
    "--set",
    "/cores=2",
    "--set",
    "/memoryBytes=256MiB"
  };

  @TempDir Path dir;

  private static String[] concat(String[] first, String... rest) {
    return Stream.concat(Stream.of(first), Stream.of(rest)).toArray(String[]::new);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void run_builtInMachine_printsSummaryAndExitsZero(String machine) {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(concat(new String[] {"run", "--machine", machine}, SMALL_STREAM));
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    assertThat(outcome.out())
        .contains("stream on " + machine)
        .contains("walks")
        .containsPattern("violations +none");
  }

  @Test
  void run_twice_givesIdenticalResultsOutsideHost() throws Exception {
    String[] args =
        concat(
            new String[] {
              "run", "--machine", "arm64-neoverse-n1", "--json", "--quiet", "--seed", "7"
            },
            SMALL_STREAM);
    CliTestSupport.Outcome first = CliTestSupport.run(args);
    CliTestSupport.Outcome second = CliTestSupport.run(args);
    assertThat(first.exitCode()).isZero();
    ObjectNode a = (ObjectNode) JSON.readTree(first.out());
    ObjectNode b = (ObjectNode) JSON.readTree(second.out());
    assertThat(a.remove("host")).isNotNull();
    b.remove("host");
    assertThat(a.toString()).isEqualTo(b.toString());
    assertThat(a.get("translations").asLong()).isGreaterThan(6000);
  }

  @Test
  void run_differentSeed_changesTheRandomWorkload() throws Exception {
    // 4 MiB (1024 pages) overflows the 64-entry l1d, so which pages miss depends on the draw
    JsonNode a =
        JSON.readTree(
            CliTestSupport.run(
                    concat(
                        concat(
                            new String[] {
                              "run", "--machine", "x86-skylake", "--json", "-q", "--seed", "1"
                            },
                            SMALL_STREAM),
                        "--param",
                        "workingSetBytes=4MiB"))
                .out());
    JsonNode b =
        JSON.readTree(
            CliTestSupport.run(
                    concat(
                        concat(
                            new String[] {
                              "run", "--machine", "x86-skylake", "--json", "-q", "--seed", "2"
                            },
                            SMALL_STREAM),
                        "--param",
                        "workingSetBytes=4MiB"))
                .out());
    assertThat(a.at("/workload/params/workingSetBytes").asText()).isEqualTo("4194304");
    assertThat(a.at("/tlb/l1d/misses")).isNotEqualTo(b.at("/tlb/l1d/misses"));
  }

  @Test
  void run_out_writesTheResultFile() throws Exception {
    Path result = dir.resolve("result.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            concat(
                new String[] {"run", "--machine", "x86-skylake", "--out", result.toString()},
                SMALL_STREAM));
    assertThat(outcome.exitCode()).isZero();
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(json.at("/machine/isa").asText()).isEqualTo("x86");
    assertThat(json.at("/workload/params/threads").asText()).isEqualTo("2");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).containsExactly(result);
    }
  }

  @Test
  void run_outInMissingDirectory_exitsTwoAndWritesNothing() {
    Path result = dir.resolve("no/such/dir/result.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            concat(
                new String[] {"run", "--machine", "x86-skylake", "--out", result.toString()},
                SMALL_STREAM));
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("--out").doesNotContain("Exception");
    assertThat(result).doesNotExist();
  }

  @Test
  void run_unknownWorkload_namesTheKnownOnes() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run("run", "--machine", "x86-skylake", "--workload", "nosuch");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .contains("--workload nosuch")
        .contains("stream")
        .doesNotContain("at org.");
  }

  @Test
  void run_badParam_namesTheParam() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "x86-skylake",
            "--workload",
            "stream",
            "--param",
            "writeFraction=2");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("--param writeFraction=2").contains("expected");
  }

  @Test
  void run_unknownParam_listsTheKnownOnes() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run", "--machine", "x86-skylake", "--workload", "stream", "--param", "nosuch=1");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("nosuch").contains("workingSetBytes");
  }

  @Test
  void run_unknownFlag_exitsTwoWithUsageHint() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run("run", "--machine", "x86-skylake", "--workload", "stream", "--bogus");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("--bogus").contains("--help");
  }

  @Test
  void run_badSetOverride_namesThePointer() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run", "--machine", "x86-skylake", "--workload", "stream", "--set", "/cores=\"many\"");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("/cores").doesNotContain("Exception");
  }

  @Test
  void run_unknownMachine_exitsTwo() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run("run", "--machine", "no-such-machine", "--workload", "stream");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("no-such-machine");
  }

  @Test
  void replay_malformedLine_stopsWithItsLineNumber() throws Exception {
    Path trace = dir.resolve("bad.txt");
    Files.writeString(
        trace, "==1== banner\nI  04000000,4\n L 7ff000,8\nthis is not lackey\n S 7ff008,8\n");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "replay",
            "--machine",
            "x86-skylake",
            "--trace-file",
            trace.toString(),
            "--set",
            "/memoryBytes=256MiB");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("bad.txt:4").doesNotContain("Exception");
  }

  @Test
  void replay_lenient_skipsAndCountsMalformedLines() throws Exception {
    Path trace = dir.resolve("bad.txt");
    Files.writeString(
        trace, "==1== banner\nI  04000000,4\n L 7ff000,8\nthis is not lackey\n S 7ff008,8\n");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "replay",
            "--machine",
            "x86-skylake",
            "--trace-file",
            trace.toString(),
            "--lenient",
            "--json",
            "-q",
            "--set",
            "/memoryBytes=256MiB");
    assertThat(outcome.exitCode()).isZero();
    JsonNode json = JSON.readTree(outcome.out());
    assertThat(json.at("/kernel/replay/skippedLines").asLong()).isEqualTo(1);
    assertThat(json.at("/translations").asLong()).isEqualTo(3);
  }

  @Test
  void replay_missingFile_exitsTwo() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "replay",
            "--machine",
            "x86-skylake",
            "--trace-file",
            dir.resolve("missing.txt").toString());
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("missing.txt");
  }

  @Test
  void list_showsMachinesWorkloadsIsasAndEvents() {
    assertThat(CliTestSupport.run("list", "machines").out())
        .contains("arm64-neoverse-n1")
        .contains("x86-skylake");
    assertThat(CliTestSupport.run("list", "workloads").out())
        .contains("stream")
        .contains("workingSetBytes")
        .contains("replay");
    assertThat(CliTestSupport.run("list", "isas").out()).contains("arm64").contains("x86");
    assertThat(CliTestSupport.run("list", "events").out()).contains("tlb.miss").contains("walk");
    assertThat(CliTestSupport.run("list", "variants").out())
        .contains("vunmapFlush")
        .containsPattern("vunmapFlush +default lazy +values lazy\\|eager");
  }

  @Test
  void validate_goodAndBadConfigs() throws Exception {
    Path bad = dir.resolve("bad.json");
    Files.writeString(
        bad, "{\"name\": \"bad\", \"extends\": \"x86-skylake\", \"cores\": \"eight\"}");
    CliTestSupport.Outcome good = CliTestSupport.run("validate", "x86-skylake");
    assertThat(good.exitCode()).isZero();
    assertThat(good.out()).contains("ok");
    CliTestSupport.Outcome outcome = CliTestSupport.run("validate", bad.toString());
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("/cores").doesNotContain("Exception");
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "\"cores\": \"eight\"|/cores",
        "\"colour\": \"red\"|/colour",
        "\"tlb\": {\"levels\": [{\"name\": \"l1\", \"serves\": \"unified\", \"entries\": 1280, \"ways\": 7, \"pageSizes\": [\"4KiB\"], \"hitCycles\": 1}]}|/tlb/levels/0/ways: 7 (expected: divides entries 1280)",
        "\"isa\": \"sparc\"|/isa",
        "\"extends\": \"no-such-machine\"|/extends",
        "\"cores\": 300, \"arm64\": {\"asidBits\": 8}|/cores: 300 (expected: fewer than 255"
      })
  void badConfig_exitsTwoNamingThePointer(String member, String expectedInError) throws Exception {
    Path config = dir.resolve("bad.json");
    String base =
        member.startsWith("\"extends\"")
            ? ""
            : member.contains("arm64")
                ? "\"extends\": \"arm64-neoverse-n1\", "
                : "\"extends\": \"x86-skylake\", ";
    Files.writeString(config, "{\"name\": \"bad\", " + base + member + "}");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            config.toString(),
            "--workload",
            "stream",
            "--out",
            dir.resolve("result.json").toString());
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .contains(expectedInError)
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(dir.resolve("result.json")).doesNotExist();
  }

  @Test
  void bench_reportsSpeedAndChecksDeterminism() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "bench",
            "--machine",
            "x86-skylake",
            "--warmup",
            "1",
            "--runs",
            "2",
            "--param",
            "accesses=2000",
            "--set",
            "/cores=2",
            "--set",
            "/memoryBytes=256MiB");
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(outcome.out())
        .contains("warm-up   1")
        .contains("run       2")
        .contains("8,000 translations per run")
        .contains("every run gave the same result");
  }

  @Test
  void bench_zeroRuns_isBadInput() {
    CliTestSupport.Outcome outcome = CliTestSupport.run("bench", "--runs", "0");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("--runs 0");
  }

  @Test
  void run_testVmalloc_printsTheKernelStyleSummaryLines() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "test_vmalloc",
            "--param",
            "test_loop_count=20",
            "--param",
            "nr_threads=2",
            "--set",
            "/cores=2",
            "--set",
            "/memoryBytes=512MiB");
    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(outcome.out())
        .containsPattern(
            "worker0: Summary: fix_size_alloc_test passed: 1 failed: 0 xfailed: 0 "
                + "repeat: 1 loops: 20 avg: [0-9.]+ usec")
        .contains("worker1: Summary: long_busy_list_alloc_test")
        .contains("All test took worker1=");
  }

  /**
   * The 2017 arm64 OOM-reaper bug as a variant: the oracle finds stale TLB use and the exit code
   * says so.
   */
  @Test
  void run_withViolations_exitsOneAndReportsThem() throws Exception {
    Path result = dir.resolve("result.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "oom-reap",
            "--param",
            "rounds=2",
            "--set",
            "/cores=4",
            "--set",
            "/memoryBytes=256MiB",
            "--set",
            "/kernel/variants/oomReaperGather=fullmm",
            "--out",
            result.toString());
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(outcome.out()).contains("STALE_TLB_USE");
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/STALE_TLB_USE").asLong()).isPositive();
    assertThat(json.at("/violations/0/history").size()).isPositive();

    CliTestSupport.Outcome fixed =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "oom-reap",
            "--param",
            "rounds=2",
            "--set",
            "/cores=4",
            "--set",
            "/memoryBytes=256MiB",
            "-q");
    assertThat(fixed.exitCode()).isEqualTo(ExitCodes.OK);
  }

  @Test
  void version_printsTheVersion() {
    CliTestSupport.Outcome outcome = CliTestSupport.run("--version");
    assertThat(outcome.exitCode()).isZero();
    assertThat(outcome.out()).startsWith("mmuemu ");
  }

  @Test
  void noCommand_exitsTwo() {
    assertThat(CliTestSupport.run().exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
  }
}
