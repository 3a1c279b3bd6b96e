package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * What only a separate JVM shows: a run stopped by SIGTERM or an error ends its traces and writes
 * no result, leaving no temporary file (the shutdown hooks), and limits that must hold with a small
 * heap.
 */
final class ForkedJvmIT {
  private static final Path JAR = Paths.get("target", "mmuemu.jar");

  @TempDir Path dir;

  static Process startJar(List<String> jvmOptions, Path output, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(output.toFile())
        .start();
  }

  /**
   * SIGTERM mid-run (Ctrl-C's path): each trace is ended with a last event saying the run was
   * interrupted and at which cycle, and committed; the result is not written; no temporary file is
   * left; stderr says so.
   */
  @Test
  void sigterm_midRun_keepsTheTraceEndedAndWritesNoResult() throws Exception {
    for (String format : List.of("chrome", "jsonl")) {
      Path trace = dir.resolve("t." + format);
      Path result = dir.resolve("r-" + format + ".json");
      Path output = dir.resolve("output-" + format + ".txt");
      Process process =
          startJar(
              List.of(),
              output,
              "run",
              "--machine",
              "arm64-neoverse-n1",
              "--workload",
              "stream",
              "--param",
              "accesses=100000000",
              "--trace",
              trace.toString(),
              "--trace-format",
              format,
              "--out",
              result.toString());
      sigtermOnceWriting(process, 2);
      String text = Files.readString(output);
      assertThat(temporaries()).isEmpty();
      assertThat(result).doesNotExist();
      long cycle = assertEndsWithStop(trace, format, "interrupted");
      assertThat(text)
          .isEqualTo(
              "interrupted (Ctrl-C or SIGTERM): the run stopped; no result written (--out "
                  + result
                  + "); trace kept: "
                  + trace
                  + " (ends at cycle "
                  + cycle
                  + ", marked interrupted)\n");
    }
  }

  /**
   * SIGTERM during explore: the search stops before its next schedule and says how many it ran and
   * that none of them showed a violation (rather than the JVM just vanishing mid-search).
   */
  @Test
  void sigterm_duringExplore_stopsTheSearchAndSaysHowFarItGot() throws Exception {
    Path output = dir.resolve("explore.txt");
    Process process =
        startJar(
            List.of(),
            output,
            "explore",
            "lazy-free-publish-uaf",
            "--variant",
            "fixed",
            "--schedules",
            "100000000");
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.readString(output).contains("schedules/s") && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      process.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(text)
        .containsPattern(
            "interrupted \\(Ctrl-C or SIGTERM\\): explore stopped after [1-9][0-9]* schedules, no"
                + " violation found in them\n$");
  }

  /**
   * SIGTERM during compare: every column's trace ends with the interrupt, no report, and stderr
   * says so.
   */
  @Test
  void sigterm_duringCompare_keepsEachColumnsTraceEndedAndWritesNoReport() throws Exception {
    Path trace = dir.resolve("ct.json");
    Path report = dir.resolve("report.html");
    Path output = dir.resolve("output.txt");
    Process process =
        startJar(
            List.of(),
            output,
            "compare",
            "--machine",
            "arm64-neoverse-n1",
            "--machine",
            "x86-skylake",
            "--workload",
            "stream",
            "--param",
            "accesses=100000000",
            "--jobs",
            "2",
            "--report",
            report.toString(),
            "--trace",
            trace.toString(),
            "--trace-format",
            "chrome");
    sigtermOnceWriting(process, 3);
    assertThat(temporaries()).isEmpty();
    assertThat(report).doesNotExist();
    long n1Cycle =
        assertEndsWithStop(dir.resolve("ct.arm64-neoverse-n1.json"), "chrome", "interrupted");
    long skylakeCycle =
        assertEndsWithStop(dir.resolve("ct.x86-skylake.json"), "chrome", "interrupted");
    assertThat(Files.readString(output))
        .isEqualTo(
            "interrupted (Ctrl-C or SIGTERM): the columns stopped; no report "
                + "written; trace kept: "
                + dir.resolve("ct.arm64-neoverse-n1.json")
                + " (ends at cycle "
                + n1Cycle
                + ", marked interrupted), "
                + dir.resolve("ct.x86-skylake.json")
                + " (ends at cycle "
                + skylakeCycle
                + ", marked interrupted)\n");
  }

  /** An error mid-run (a malformed line far into a replayed trace): the same, with "failed". */
  @Test
  void errorMidRun_keepsTheTraceEndedAndWritesNoResult() throws Exception {
    Path lackey = dir.resolve("bad.txt");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 50_000; i++) {
      lines.append(" L ").append(Long.toHexString(0x10000 + i * 64L)).append(",8\n");
    }
    Files.writeString(lackey, lines.append("garbage line\n"));
    for (String format : List.of("chrome", "jsonl")) {
      Path trace = dir.resolve("t." + format);
      Path result = dir.resolve("r.json");
      Path output = dir.resolve("output.txt");
      Process process =
          startJar(
              List.of(),
              output,
              "replay",
              "--machine",
              "x86-skylake",
              "--trace-file",
              lackey.toString(),
              "--trace",
              trace.toString(),
              "--trace-format",
              format,
              "--out",
              result.toString());
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
      String text = Files.readString(output);
      assertThat(process.exitValue()).as(text).isEqualTo(ExitCodes.BAD_INPUT);
      assertThat(temporaries()).isEmpty();
      assertThat(result).doesNotExist();
      long cycle = assertEndsWithStop(trace, format, "failed");
      assertThat(text)
          .startsWith("replay: bad.txt:50001: malformed lackey line")
          .endsWith(
              "\nreplay: no result "
                  + "written (--out "
                  + result
                  + "); trace kept: "
                  + trace
                  + " (ends at cycle "
                  + cycle
                  + ", marked failed)\n");
    }
  }

  /** Sends SIGTERM once the run has opened its outputs and run a while, and waits for the exit. */
  private void sigtermOnceWriting(Process process, int outputs) throws Exception {
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (temporaries().size() < outputs && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(temporaries()).hasSize(outputs);
      Thread.sleep(1500);
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      process.destroyForcibly();
    }
  }

  /** Checks the trace is whole and ends saying the run stopped; returns the cycle it names. */
  private static long assertEndsWithStop(Path trace, String format, String why) throws IOException {
    if (format.equals("chrome")) {
      List<JsonNode> events = ChromeTraceValidator.assertValid(trace);
      JsonNode last = events.get(events.size() - 1);
      assertThat(last.get("ph").asText()).isEqualTo("i");
      assertThat(last.get("s").asText()).isEqualTo("g");
      assertThat(last.get("name").asText()).isEqualTo("run " + why);
      assertThat(
              events.stream()
                  .filter(
                      e ->
                          e.path("ph").asText().equals("i")
                              && e.path("cat").asText().equals("run")))
          .hasSize(1);
      long cycle = last.get("args").get("cycle").asLong();
      assertThat(cycle).isPositive();
      return cycle;
    }
    List<String> lines = Files.readAllLines(trace);
    assertThat(lines.size()).isGreaterThan(100);
    ObjectMapper json = new ObjectMapper();
    for (String line : lines) {
      json.readTree(line);
    }
    JsonNode marker = json.readTree(lines.get(lines.size() - 1));
    assertThat(marker.get("stopped").asText()).isEqualTo(why);
    assertThat(marker.get("eventsWritten").asLong()).isEqualTo(lines.size() - 1);
    assertThat(json.readTree(lines.get(lines.size() - 2)).get("cycle").asLong())
        .isLessThanOrEqualTo(marker.get("cycle").asLong());
    return marker.get("cycle").asLong();
  }

  /**
   * One 100 MB line (the 2 GB sparse file, scaled): stopped in bounded memory, with its
   * line number.
   */
  @Test
  void hundredMegabyteLine_failsWithItsLineNumber_inA256MegabyteHeap() throws Exception {
    Path trace = dir.resolve("one-line.txt");
    try (FileChannel channel =
        FileChannel.open(trace, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap("I  0400000,4\n".getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer chunk = ByteBuffer.wrap("7".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII));
      for (int i = 0; i < 100; i++) {
        channel.write(chunk.rewind());
      }
      channel.write(ByteBuffer.wrap("\n S 1000,8\n".getBytes(StandardCharsets.US_ASCII)));
    }
    Path output = dir.resolve("output.txt");
    try {
      for (boolean lenient : new boolean[] {false, true}) {
        List<String> args =
            new ArrayList<>(
                List.of(
                    "replay", "--machine", "x86-skylake", "--trace-file", trace.toString(), "-q"));
        if (lenient) {
          args.addAll(List.of("--lenient", "--json"));
        }
        Process process = startJar(List.of("-Xmx256m"), output, args.toArray(String[]::new));
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String text = Files.readString(output);
        if (lenient) {
          assertThat(process.exitValue()).as(text).isZero();
          assertThat(text).contains("\"longLines\": 1").doesNotContain("OutOfMemoryError");
        } else {
          assertThat(process.exitValue()).as(text).isEqualTo(ExitCodes.BAD_INPUT);
          assertThat(text)
              .isEqualTo(
                  "replay: one-line.txt:2: line longer than 4096 bytes (the limit; see "
                      + "--max-line-bytes)\n");
        }
      }
    } finally {
      Files.deleteIfExists(trace);
    }
  }

  /** A plain run prints its summary and nothing else: no log lines from the libraries. */
  @Test
  void plainRun_writesNothingToStandardError() throws Exception {
    Path output = dir.resolve("stderr.txt");
    List<String> command =
        List.of(
            Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            JAR.toString(),
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "stream",
            "--param",
            "accesses=100");
    Process process =
        new ProcessBuilder(command)
            .redirectError(output.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    assertThat(Files.readString(output)).isEmpty();
  }

  private List<String> temporaries() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.contains(".mmuemu-tmp-"))
          .toList();
    }
  }
}
