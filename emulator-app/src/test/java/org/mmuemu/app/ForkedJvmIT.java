package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  private List<String> temporaries() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(name -> name.contains(".mmuemu-tmp-")).toList();
    }
  }
}
