package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

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
 * What only a separate JVM shows: a killed run removes its temporary files (the shutdown hook),
 * and limits that must hold with a small heap.
 */
final class ForkedJvmIT {
  private static final Path JAR = Paths.get("target", "mmuemu.jar");

  @TempDir
  Path dir;

  static Process startJar(List<String> jvmOptions, Path output, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
  }

  @Test
  void sigterm_midRun_removesTheTemporaryTraceFile() throws Exception {
    Path trace = dir.resolve("t.jsonl");
    Process process = startJar(List.of(), dir.resolve("output.txt"), "run", "--machine", "arm64-neoverse-n1",
        "--workload", "stream", "--param", "accesses=100000000", "--trace", trace.toString(), "--trace-events", "all");
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (temporaries().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(temporaries()).hasSize(1).allMatch(name -> name.startsWith(".t.jsonl.mmuemu-tmp-"));
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      process.destroyForcibly();
    }
    assertThat(temporaries()).isEmpty();
    assertThat(trace).doesNotExist();
  }

  /** One 100 MB line (the 2 GB sparse file, scaled): stopped in bounded memory, with its line number. */
  @Test
  void hundredMegabyteLine_failsWithItsLineNumber_inA256MegabyteHeap() throws Exception {
    Path trace = dir.resolve("one-line.txt");
    try (FileChannel channel = FileChannel.open(trace, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
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
        List<String> args = new ArrayList<>(List.of("replay", "--machine", "x86-skylake", "--trace-file",
            trace.toString(), "-q"));
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
          assertThat(text).isEqualTo("replay: one-line.txt:2: line longer than 4096 bytes (the limit; see "
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
    List<String> command = List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        JAR.toString(), "run", "--machine", "arm64-neoverse-n1", "--workload", "stream", "--param", "accesses=100");
    Process process = new ProcessBuilder(command).redirectError(output.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    assertThat(Files.readString(output)).isEmpty();
  }

  private List<String> temporaries() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(name -> name.contains(".mmuemu-tmp-")).toList();
    }
  }
}
