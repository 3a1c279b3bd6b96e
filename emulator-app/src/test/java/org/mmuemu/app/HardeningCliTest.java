package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.CliTestSupport.Outcome;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Hostile input through the command line (issue 10): a machine whose memory would exhaust the heap
 * is refused before it runs, an out-of-memory error is one line, overlong trace lines are stopped
 * or skipped, and input echoed in messages cannot drive the terminal.
 */
final class HardeningCliTest {
  @TempDir Path dir;

  @Test
  void oneTebibyteMachine_refusedUpFront_byValidate() {
    Outcome outcome =
        CliTestSupport.run("validate", "--set", "/memoryBytes=1TiB", "arm64-neoverse-n1");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    // Surefire runs with -Xmx2g: a budget of 1.5GiB.
    assertThat(outcome.err())
        .matches(
            "arm64-neoverse-n1: /memoryBytes: 1TiB may need 16GiB of host memory "
                + "\\(expected: at most 9[0-9]GiB of simulated memory within this JVM's host-memory budget of 1\\.[0-9]GiB "
                + "\\(3/4 of its maximum heap\\); use a smaller machine, or give Java more heap \\(-Xmx\\)\\)\n");
  }

  @Test
  void oneTebibyteMachine_refusedUpFront_byRun() throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("big.json"),
            "{\"name\": \"big\", \"extends\": \"x86-skylake\", " + "\"memoryBytes\": \"1TiB\"}");

    Outcome outcome =
        CliTestSupport.run("run", "--machine", config.toString(), "--workload", "stream");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .startsWith("run: /memoryBytes: 1TiB may need 16GiB of host memory")
        .hasLineCount(1);
    assertThat(outcome.out()).isEmpty();
  }

  @Test
  void tooManyTlbEntries_refusedNamingTheTlb() {
    Outcome outcome =
        CliTestSupport.run(
            "validate",
            "--set",
            "/cores=4096",
            "--set",
            "/tlb/levels/2/entries=1048575",
            "arm64-neoverse-n1");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .startsWith(
            "arm64-neoverse-n1: /tlb/levels: TLB and walk-cache entries for 4096 cores "
                + "may need 192GiB of host memory");
  }

  @Test
  void largeButSparseMachine_runsInLittleHeap() {
    // 64 GiB of simulated memory, of which the workload touches 2 MiB per thread.
    Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--set",
            "/memoryBytes=64GiB",
            "--workload",
            "stream",
            "--param",
            "accesses=1000",
            "-q");

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
  }

  @Test
  void outOfMemory_isOneLine_exitThree_stackTraceOnlyWithDebug() {
    StringWriter err = new StringWriter();
    int code =
        Main.outOfMemory(
            new OutOfMemoryError("Java heap space"), false, new PrintWriter(err, true));

    assertThat(code).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(err.toString())
        .startsWith("mmuemu: out of host memory (Java heap space, maximum heap ")
        .hasLineCount(1)
        .doesNotContain("\tat ");

    StringWriter debug = new StringWriter();
    Main.outOfMemory(new OutOfMemoryError("Java heap space"), true, new PrintWriter(debug, true));
    assertThat(debug.toString()).contains("\tat ");
  }

  @Test
  void debugFlag_isAcceptedByEveryCommand() {
    Outcome outcome = CliTestSupport.run("validate", "--debug", "x86-skylake");

    assertThat(outcome.exitCode()).isZero();
  }

  @Test
  void replay_overlongLine_stopsWithItsLineNumber() throws Exception {
    Path trace = Files.writeString(dir.resolve("t.txt"), "I  0400000,4\n" + "7".repeat(200) + "\n");

    Outcome outcome =
        CliTestSupport.run(
            "replay",
            "--machine",
            "x86-skylake",
            "--trace-file",
            trace.toString(),
            "--max-line-bytes",
            "100");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .isEqualTo(
            "replay: t.txt:2: line longer than 100 bytes (the limit; see " + "--max-line-bytes)\n");
  }

  @Test
  void replay_lenient_skipsAndCountsOverlongLines() throws Exception {
    Path trace =
        Files.writeString(
            dir.resolve("t.txt"), "I  0400000,4\n" + "7".repeat(5000) + "\n S 1000,8\n");
    Path out = dir.resolve("r.json");

    Outcome outcome =
        CliTestSupport.run(
            "replay",
            "--machine",
            "x86-skylake",
            "--trace-file",
            trace.toString(),
            "--lenient",
            "--out",
            out.toString(),
            "-q");

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(Files.readString(out)).contains("\"longLines\": 1").contains("\"skippedLines\": 1");
  }

  @Test
  void replay_escapeSequencesInATrace_areShownEscaped() throws Exception {
    Path trace = dir.resolve("t.txt");
    Files.write(trace, "\u001b]0;pwned\u0007\u001b[2J\n".getBytes(StandardCharsets.ISO_8859_1));

    Outcome outcome =
        CliTestSupport.run("replay", "--machine", "x86-skylake", "--trace-file", trace.toString());

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .doesNotContain("\u001b")
        .doesNotContain("\u0007")
        .contains("got \"\\x1b]0;pwned\\x07\\x1b[2J\"");
  }

  @Test
  void escapeSequencesInFlagsConfigsAndNames_areShownEscaped() throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("evil.json"),
            "{\"name\": \"x\\u001b[31m\", \"extends\": \"x86-skylake\","
                + " \"\\u001b[2Jkey\": 1}");

    Outcome badKey = CliTestSupport.run("validate", config.toString());
    Outcome badFlag =
        CliTestSupport.run("run", "--machine", "no\u001b[31msuch", "--workload", "stream");
    Outcome badWorkload =
        CliTestSupport.run("run", "--machine", "x86-skylake", "--workload", "w\u001b[1m");
    Outcome badOut =
        CliTestSupport.run(
            "run",
            "--machine",
            "x86-skylake",
            "--workload",
            "stream",
            "--out",
            dir.resolve("no\u001b[5m/x").toString());

    for (Outcome outcome : new Outcome[] {badKey, badFlag, badWorkload, badOut}) {
      assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(outcome.err()).doesNotContain("\u001b").contains("\\x1b");
    }
  }

  @Test
  void outPathWithEscapes_isEscapedInTheSummary() {
    Path out = dir.resolve("r\u001b[31m.json");

    Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "x86-skylake",
            "--workload",
            "stream",
            "--param",
            "accesses=10",
            "--param",
            "threads=1",
            "--out",
            out.toString());

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(outcome.out()).contains("r\\x1b[31m.json").doesNotContain("\u001b");
    assertThat(out).exists();
  }
}
