package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.CliTestSupport.Outcome;
import org.mmuemu.app.runner.ExitCodes;

/**
 * {@code --out} and {@code --trace} through the command line: they must write through a link
 * without replacing it, stream to a FIFO or device, keep a file's permissions, be checked before
 * the run, and cut a trace at {@code --trace-max-bytes}.
 */
final class OutputFilesCliTest {
  private static final String[] SMALL_RUN = {
    "run",
    "--machine",
    "arm64-neoverse-n1",
    "--workload",
    "stream",
    "--param",
    "accesses=200",
    "--param",
    "threads=1",
    "-q"
  };

  @TempDir Path dir;

  private static Outcome run(String... extra) {
    String[] args = new String[SMALL_RUN.length + extra.length];
    System.arraycopy(SMALL_RUN, 0, args, 0, SMALL_RUN.length);
    System.arraycopy(extra, 0, args, SMALL_RUN.length, extra.length);
    return CliTestSupport.run(args);
  }

  @Test
  void out_ontoASymlink_keepsTheLinkAndWritesItsTarget() throws IOException {
    Path real = Files.writeString(dir.resolve("real.json"), "old");
    Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-rw-r--"));
    Path link = Files.createSymbolicLink(dir.resolve("result.json"), Path.of("real.json"));

    Outcome outcome = run("--out", link.toString());

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).startsWith("{").contains("\"schemaVersion\"");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(real)))
        .isEqualTo("rw-rw-r--");
    assertThat(listing()).containsExactly("real.json", "result.json");
  }

  @Test
  void out_ontoAFifo_streamsTheResult() throws Exception {
    Path fifo = dir.resolve("result.fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    CompletableFuture<String> reader =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = Files.newInputStream(fifo)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });

    Outcome outcome = run("--out", fifo.toString());

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(reader.get(30, TimeUnit.SECONDS)).startsWith("{").contains("\"schemaVersion\"");
    assertThat(Files.isRegularFile(fifo)).isFalse();
    assertThat(listing()).containsExactly("result.fifo");
  }

  @Test
  void trace_devNull_leavesACharacterDevice() throws IOException {
    Outcome outcome = run("--trace", "/dev/null", "--trace-events", "all");

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    assertThat(
            ((Integer) Files.readAttributes(Path.of("/dev/null"), "unix:mode").get("mode"))
                & 0170000)
        .isEqualTo(0020000);
  }

  /** The run would fail with too little memory; the --out check comes first, so it is never run. */
  @Test
  void out_inAMissingDirectory_failsBeforeTheRun() {
    Path out = dir.resolve("missing/result.json");

    Outcome outcome = run("--set", "/memoryBytes=8KiB", "--out", out.toString());

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .isEqualTo("run: --out " + out + ": no such directory " + dir.resolve("missing") + "\n");
    assertThat(outcome.out()).isEmpty();
  }

  @Test
  void trace_inAMissingDirectory_failsBeforeTheRun_andLeavesTheResultUntouched()
      throws IOException {
    Path result = Files.writeString(dir.resolve("result.json"), "old");
    Path trace = dir.resolve("missing/t.jsonl");

    Outcome outcome = run("--out", result.toString(), "--trace", trace.toString());

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).startsWith("run: --trace " + trace + ": no such directory");
    assertThat(Files.readString(result)).isEqualTo("old");
    assertThat(listing()).containsExactly("result.json");
  }

  @Test
  void traceMaxBytes_cutsTheTrace_theRunGoesOn_andTheSummarySaysSo() throws IOException {
    Path trace = dir.resolve("t.jsonl");
    String[] args = {
      "run",
      "--machine",
      "arm64-neoverse-n1",
      "--workload",
      "stream",
      "--param",
      "accesses=200",
      "--param",
      "threads=1",
      "--trace",
      trace.toString(),
      "--trace-events",
      "all",
      "--trace-max-bytes",
      "2000"
    };

    Outcome outcome = CliTestSupport.run(args);

    assertThat(outcome.exitCode()).as(outcome.err()).isZero();
    List<String> lines = Files.readAllLines(trace);
    assertThat(Files.size(trace) - lines.get(lines.size() - 1).length() - 1)
        .isLessThanOrEqualTo(2000);
    assertThat(lines.get(lines.size() - 1))
        .startsWith(
            "{\"truncated\":true,\"reason\":\"--trace-max-bytes 2000 reached\",\"eventsWritten\":"
                + (lines.size() - 1)
                + "}");
    assertThat(outcome.out())
        .contains("stream on arm64-neoverse-n1")
        .containsPattern(
            "trace +cut at --trace-max-bytes 2000: "
                + (lines.size() - 1)
                + " events written, [0-9,]+ left out");
  }

  @Test
  void traceMaxBytes_notASize_isBadInput() {
    Outcome outcome = run("--trace", dir.resolve("t").toString(), "--trace-max-bytes", "lots");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("--trace-max-bytes: lots (expected: a positive size");
  }

  private List<String> listing() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
