package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.workload.registry.Workloads;

/**
 * The progress bar reads simulated progress without changing the run, shows only on an interactive
 * terminal outside CI, and a run stopped by a signal (Ctrl-C's path, through the shutdown hook)
 * ends its trace, writes no result and says so.
 */
final class ProgressAndInterruptionTest {
  @TempDir Path dir;

  @Test
  void wanted_onlyOnAnInteractiveConsoleOutsideCiAndNotQuiet() {
    assertThat(ProgressDisplay.wanted(false, true, Map.of("TERM", "xterm"))).isTrue();
    assertThat(ProgressDisplay.wanted(true, true, Map.of())).isFalse();
    assertThat(ProgressDisplay.wanted(false, false, Map.of())).isFalse();
    assertThat(ProgressDisplay.wanted(false, true, Map.of("CI", "true"))).isFalse();
    assertThat(ProgressDisplay.wanted(false, true, Map.of("TERM", "dumb"))).isFalse();
  }

  @Test
  void progressObserver_showsCyclesAndLeavesTheResultUnchanged() throws Exception {
    IsaRegistry registry = IsaRegistry.load();
    LoadedMachine machine =
        RunExecutor.loadMachine(registry, "arm64-neoverse-n1", List.of("/cores=2"));
    Map<String, String> params = Map.of("accesses", "200000", "threads", "2");
    RunResult plain =
        SimulationRunner.run(
            registry, machine, Workloads.get("stream"), params, 1, List.of(), () -> false);
    List<String> rendered = new ArrayList<>();
    RunResult observed;
    try (ProgressDisplay progress =
        ProgressDisplay.forRun(
            "stream",
            new DelegatingProgressBarConsumer(
                line -> {
                  synchronized (rendered) {
                    rendered.add(line);
                  }
                }))) {
      RunObserver observer = progress.runObserver();
      observed =
          SimulationRunner.runWithStats(
                  registry,
                  machine,
                  Workloads.get("stream"),
                  params,
                  1,
                  List.of(),
                  () -> false,
                  observer)
              .result();
      progress.runObserver();
    }
    assertThat(ResultJson.toJson(observed.withHost(null)))
        .isEqualTo(ResultJson.toJson(plain.withHost(null)));
    synchronized (rendered) {
      assertThat(rendered)
          .anySatisfy(line -> assertThat(line).contains("stream").contains("M cycles"));
    }
  }

  @Test
  void run_stoppedBySignal_cleansUpWritesNoResultAndSaysSo() throws Exception {
    Path result = dir.resolve("result.json");
    Path trace = dir.resolve("events.jsonl");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "org.mmuemu.app.Main",
                "run",
                "--machine",
                "arm64-neoverse-n1",
                "--workload",
                "stream",
                "--param",
                "accesses=50000000",
                "--out",
                result.toString(),
                "--trace",
                trace.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("output.txt").toFile())
            .start();
    // The trace's temporary file exists once the run is set up (the hook is installed next).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (listTemporaries().isEmpty() && System.nanoTime() < deadline && process.isAlive()) {
      Thread.sleep(50);
    }
    Thread.sleep(1000);
    process.destroy();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = Files.readString(dir.resolve("output.txt"), StandardCharsets.UTF_8);
    assertThat(output)
        .contains(
            "interrupted (Ctrl-C or SIGTERM): the run stopped; no result written (--out "
                + result
                + "); trace kept: "
                + trace
                + " (ends at cycle ");
    assertThat(result).doesNotExist();
    assertThat(Files.readAllLines(trace))
        .last()
        .asString()
        .startsWith("{\"stopped\":\"interrupted\",\"cycle\":");
    assertThat(listTemporaries()).isEmpty();
  }

  private List<Path> listTemporaries() throws Exception {
    try (var files = Files.list(dir)) {
      return files
          .filter(file -> file.getFileName().toString().contains(OutputFile.TEMPORARY_MARKER))
          .toList();
    }
  }
}
