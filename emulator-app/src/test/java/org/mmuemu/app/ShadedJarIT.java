package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as users run it: its merged ServiceLoader files must keep both ISA providers
 * (without the services transformer one of them silently disappears), and a run must work from the
 * jar alone.
 */
final class ShadedJarIT {
  private static final Path JAR = Paths.get("target", "mmuemu.jar");

  private static List<String> runJar(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    return output.lines().toList();
  }

  @Test
  void shadedJar_listsBothIsas() throws Exception {
    assertThat(JAR).exists();
    List<String> lines = runJar("list", "isas");
    assertThat(lines)
        .anyMatch(line -> line.startsWith("arm64 "))
        .anyMatch(line -> line.startsWith("x86 "));
  }

  @Test
  void shadedJar_runsTheQuickStartWorkload() throws Exception {
    List<String> lines =
        runJar(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "stream",
            "--param",
            "accesses=2000");
    assertThat(lines).anyMatch(line -> line.contains("stream on arm64-neoverse-n1"));
    assertThat(Files.size(JAR)).isGreaterThan(100_000);
  }
}
