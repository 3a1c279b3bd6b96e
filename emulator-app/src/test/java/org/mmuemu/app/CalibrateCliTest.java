package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mmuemu calibrate} through the CLI: the built-in targets on their machines, a user's
 * targets file, and the flush call cost it rests on.
 */
final class CalibrateCliTest {
  private static final String ONE_PAGE =
      "{\"workload\": \"munmap-storm\", \"params\": {\"threads\": 1, \"iterations\": 5,"
          + " \"regionBytes\": 4096}, \"metric\": \"/latency/flush_tlb_range/mean\"}";
  private static final String EIGHT_PAGES =
      "{\"workload\": \"munmap-storm\", \"params\": {\"threads\": 1, \"iterations\": 5,"
          + " \"regionBytes\": \"32KiB\"}, \"metric\": \"/latency/flush_tlb_range/mean\"}";

  /** A targets file with one target on x86-haswell. */
  private static String oneTarget(String published, String extra, String numerator) {
    return "{\"targets\": [{\"id\": \"mine\", \"title\": \"8 pages over 1\", \"source\":"
        + " \"my lab\", \"machine\": \"x86-haswell\", \"published\": "
        + published
        + extra
        + ", \"model\": {\"numerator\": "
        + numerator
        + ", \"denominator\": "
        + ONE_PAGE
        + "}}]}";
  }

  @Test
  void builtInTargets_passOnTheirMachines_andPrintFigureSourceModelAndRatio() {
    CliTestSupport.Outcome outcome = CliTestSupport.run("calibrate");

    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isZero();
    // the 8-page flush over one page: published 3,542 / 1,276, the model (850 + 8 x 250) / 1,100
    assertThat(outcome.out())
        .containsPattern(
            "x86-flush-8-vs-1-page +x86-haswell +fitted +2\\.776 +2\\.591 +0\\.93 +25% +ok")
        .contains("source: Dave Hansen")
        .contains("x86-dontneed-1-remote")
        .contains("source: Nadav Amit")
        .containsPattern(
            "x86-flush-full-vs-1-page +x86-haswell +check +1\\.050 +0\\.864 +0\\.82 .* ok")
        .containsPattern("x86-range-vs-invlpg +x86-haswell +fitted +1\\.554 +1\\.576 +1\\.01 .* ok")
        .contains("0 outside")
        .doesNotContain("not gated");
  }

  /** On a machine whose flush call costs nothing (Skylake: PTI doubles every page) it fails. */
  @Test
  void anotherMachine_isMeasuredAgainstTheSameTargets_andExitsOneOutsideTolerance() {
    CliTestSupport.Outcome outcome = CliTestSupport.run("calibrate", "--machine", "x86-skylake");

    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.out())
        .containsPattern("x86-flush-8-vs-1-page +x86-skylake +fitted +2\\.776 .* OUTSIDE");
  }

  @Test
  void userTargetsFile_isMeasured_andAFigureOutsideItsToleranceExitsOne(@TempDir Path dir)
      throws Exception {
    Path targets = dir.resolve("mine.json");
    Files.writeString(targets, oneTarget("8.0", ", \"tolerance\": 0.1", EIGHT_PAGES));

    CliTestSupport.Outcome outcome =
        CliTestSupport.run("calibrate", "--targets", targets.toString());

    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.out())
        .containsPattern("mine +x86-haswell +fitted +8\\.000 +2\\.591 .*OUTSIDE");

    // an unknown machine is bad input, named with the measure that needed it
    CliTestSupport.Outcome unknown =
        CliTestSupport.run("calibrate", "--targets", targets.toString(), "--machine", "nosuch");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).contains("/targets/0/model/numerator: ").contains("nosuch");
  }

  @Test
  void badTargetsFiles_exitTwoNamingThePointer(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(
        file,
        "{\"targets\": [{\"id\": \"x\", \"title\": \"t\", \"source\": \"s\", \"machine\":"
            + " \"x86-haswell\", \"published\": -1, \"role\": \"maybe\", \"model\": {\"numerator\":"
            + " {\"workload\": \"munmap-storm\", \"metric\": \"latency\"}}}]}");

    CliTestSupport.Outcome outcome = CliTestSupport.run("calibrate", "--targets", file.toString());

    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.out()).isEmpty();
    assertThat(outcome.err())
        .contains("/targets/0/published: -1 (expected: a number above 0)")
        .contains("/targets/0/role: \"maybe\" (expected: one of fitted, check, gap)")
        .contains("/targets/0/model/numerator/metric: \"latency\" (expected: a JSON pointer")
        .contains("/targets/0/model/denominator: missing");

    Files.writeString(file, oneTarget("1", "", ONE_PAGE.replace("flush_tlb_range", "no_such_op")));
    CliTestSupport.Outcome missingMetric =
        CliTestSupport.run("calibrate", "--targets", file.toString());
    assertThat(missingMetric.exitCode()).isEqualTo(2);
    assertThat(missingMetric.err())
        .contains(
            "/targets/0/model/numerator/metric: \"/latency/no_such_op/mean\" is not in the result");

    assertThat(
            CliTestSupport.run("calibrate", "--targets", dir.resolve("none.json").toString()).err())
        .endsWith("none.json: no such file" + System.lineSeparator());

    Files.write(file, new byte[(int) CalibrationTargets.MAX_FILE_BYTES + 1]);
    assertThat(CliTestSupport.run("calibrate", "--targets", file.toString()).err())
        .contains("bytes (expected: at most 1048576 bytes)");

    Files.writeString(file, "{\"targets\": [");
    assertThat(CliTestSupport.run("calibrate", "--targets", file.toString()).err())
        .contains("not valid JSON");
  }

  /**
   * The flush call's software costs, hot and cold, are charged once per flush call on both ISAs.
   */
  @Test
  void tlbFlushCallCycles_andItsColdPart_areChargedOncePerFlushCall() throws Exception {
    for (String machine : new String[] {"arm64-neoverse-n1", "x86-skylake"}) {
      JsonNode free = flushRange(machine, 0, 0);
      JsonNode hot = flushRange(machine, 1000, 0);
      JsonNode both = flushRange(machine, 1000, 300);
      double freeMean = free.at("/latency/flush_tlb_range/mean").asDouble();
      assertThat(hot.at("/latency/flush_tlb_range/mean").asDouble())
          .as(machine)
          .isEqualTo(freeMean + 1000);
      assertThat(both.at("/latency/flush_tlb_range/mean").asDouble())
          .as(machine)
          .isEqualTo(freeMean + 1300);
    }
  }

  private static JsonNode flushRange(String machine, long callCycles, long coldCycles)
      throws Exception {
    return CliTestSupport.runResult(
        machine,
        "munmap-storm",
        "--param",
        "threads=1",
        "--param",
        "iterations=5",
        "--set",
        "/kernel/costs/tlbFlushCallCycles=" + callCycles,
        "--set",
        "/kernel/costs/tlbFlushCallColdCycles=" + coldCycles);
  }
}
