package org.mmuemu.app;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.registry.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmuemu bench}: how fast this host simulates, without building the JMH module. Runs the
 * same simulation several times in one JVM (the first runs warm the JIT up), reports host
 * translations per second, and checks on the way that every run gave the same result.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measure host simulation speed: run one workload several times and report translations per "
          + "second (median of the measured runs).",
      "For microbenchmarks of the hot paths use the JMH jar in benchmarks/ (see benchmarks/README.md)."
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--machine",
      paramLabel = "<name|file>",
      defaultValue = "arm64-neoverse-n1",
      description = "Machine (default: ${DEFAULT-VALUE}).")
  String machine;

  @Option(
      names = "--workload",
      paramLabel = "<name>",
      defaultValue = "stream",
      description = "Workload (default: ${DEFAULT-VALUE}).")
  String workload;

  @Option(
      names = "--param",
      paramLabel = "name=value",
      description = "A workload parameter. Repeatable.")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(
      names = "--set",
      paramLabel = "/pointer=value",
      description = "Override one config value. Repeatable.")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--warmup",
      paramLabel = "N",
      defaultValue = "2",
      description = "Runs before measuring (default: ${DEFAULT-VALUE}).")
  int warmupRuns;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "5",
      description = "Measured runs (default: ${DEFAULT-VALUE}).")
  int measuredRuns;

  @Override
  public Integer call() throws Exception {
    if (warmupRuns < 0 || measuredRuns < 1) {
      throw new UserInputException(
          "--warmup "
              + warmupRuns
              + " --runs "
              + measuredRuns
              + " (expected: --warmup >= 0 and --runs >= 1)");
    }
    PrintWriter out = spec.commandLine().getOut();
    IsaRegistry registry = IsaRegistry.load();
    LoadedMachine loaded = RunExecutor.loadMachine(registry, machine, overrides);
    Workload chosen;
    try {
      chosen = Workloads.get(workload);
    } catch (WorkloadException e) {
      throw new UserInputException(e.getMessage());
    }
    double[] translationsPerSecond = new double[measuredRuns];
    RunResult first = null;
    for (int run = 0; run < warmupRuns + measuredRuns; run++) {
      RunResult timed;
      try {
        timed = SimulationRunner.run(registry, loaded, chosen, params, 1, List.of(), () -> false);
      } catch (WorkloadException e) {
        throw new UserInputException(e.getMessage());
      } catch (SimulatedOutOfMemoryException e) {
        throw new UserInputException("--machine " + machine + ": " + e.getMessage());
      }
      double seconds = timed.host().wallSeconds();
      double perSecond = timed.host().translationsPerSecond();
      RunResult result = timed.withHost(null);
      if (first == null) {
        first = result;
      } else if (!first.equals(result)) {
        throw new IllegalStateException(
            "run "
                + (run + 1)
                + " gave a different result from run 1: "
                + "the simulation is not deterministic");
      }
      String label = run < warmupRuns ? "warm-up" : "run";
      int index = run < warmupRuns ? run + 1 : run - warmupRuns + 1;
      out.printf(
          Locale.ROOT,
          "%-8s %2d  %8.3f s  %,14.0f translations/s%n",
          label,
          index,
          seconds,
          perSecond);
      out.flush();
      if (run >= warmupRuns) {
        translationsPerSecond[run - warmupRuns] = perSecond;
      }
    }
    Arrays.sort(translationsPerSecond);
    double median = translationsPerSecond[measuredRuns / 2];
    out.printf(
        Locale.ROOT,
        "%s on %s: %,d translations per run, median %,.0f translations/s over %d runs "
            + "(min %,.0f, max %,.0f); every run gave the same result%n",
        workload,
        loaded.spec().name(),
        first.translations(),
        median,
        measuredRuns,
        translationsPerSecond[0],
        translationsPerSecond[measuredRuns - 1]);
    out.flush();
    return ExitCodes.OK;
  }
}
