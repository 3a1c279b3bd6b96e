package org.mmuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.app.CalibrationTargets.Measure;
import org.mmuemu.app.CalibrationTargets.Target;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.text.TerminalText;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.registry.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmuemu calibrate}: runs the calibration set and compares each published figure with the
 * model's (docs/calibration.md). Exit 0 when every gated target is within its tolerance, 1 when one
 * is not, 2 on bad input.
 */
@Command(
    name = "calibrate",
    mixinStandardHelpOptions = true,
    description =
        "Reproduce published kernel measurements: for each target print the published figure, its"
            + " source, the model's figure and their ratio; exit 1 when a target is outside its"
            + " tolerance.")
final class CalibrateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(
      names = "--machine",
      paramLabel = "<name|file>",
      description = "Run every target on this machine instead of the one each target names.")
  String machine;

  @Option(
      names = "--targets",
      paramLabel = "<file>",
      description = "A targets file of your own (format: docs/calibration.md); default: built in.")
  Path targetsFile;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "The seed of every run (default ${DEFAULT-VALUE}).")
  long seed;

  /** A finished target: the model's figure and how it compares. */
  record Outcome(Target target, String machine, double model) {
    double ratio() {
      return model / target.published();
    }

    boolean within() {
      return Math.abs(ratio() - 1) <= target.tolerance();
    }
  }

  @Override
  public Integer call() throws UserInputException {
    PrintWriter out = spec.commandLine().getOut();
    CalibrationTargets targets =
        targetsFile == null ? CalibrationTargets.builtIn() : CalibrationTargets.read(targetsFile);
    IsaRegistry registry = IsaRegistry.load();
    Map<String, JsonNode> runs = new HashMap<>();
    List<Outcome> outcomes = new ArrayList<>();
    for (Target target : targets.targets()) {
      String machineName = machine != null ? machine : target.machine();
      String where =
          (targetsFile == null ? CalibrationTargets.BUILT_IN : "--targets " + targetsFile) + ": ";
      double numerator = measure(registry, machineName, target.numerator(), where, runs);
      double model;
      if (target.denominator() == null) {
        LoadedMachine loaded =
            load(registry, machineName, target.numerator().sets(), where, target.numerator());
        model = numerator / loaded.spec().frequencyGHz();
      } else {
        model = numerator / measure(registry, machineName, target.denominator(), where, runs);
      }
      outcomes.add(new Outcome(target, machineName, model));
    }
    print(out, targets, outcomes);
    boolean failed = outcomes.stream().anyMatch(o -> o.target().role().gated() && !o.within());
    return failed ? ExitCodes.OUTSIDE_TOLERANCE : ExitCodes.OK;
  }

  private void print(PrintWriter out, CalibrationTargets targets, List<Outcome> outcomes) {
    out.println(
        TerminalText.escape(
            "calibration: "
                + outcomes.size()
                + " targets from "
                + (targetsFile == null ? "the built-in set" : targetsFile.toString())
                + ", seed "
                + seed));
    out.println(
        String.format(
            Locale.ROOT,
            "%-28s %-12s %-7s %10s %10s %7s %6s  %s",
            "target",
            "machine",
            "role",
            "published",
            "model",
            "ratio",
            "tol",
            "status"));
    int outside = 0;
    int gaps = 0;
    for (Outcome outcome : outcomes) {
      Target target = outcome.target();
      String status;
      if (outcome.within()) {
        status = "ok";
      } else if (target.role().gated()) {
        status = "OUTSIDE";
        outside++;
      } else {
        status = "gap (not gated)";
        gaps++;
      }
      String unit = target.unit().equals("ns") ? " ns" : "";
      out.println(
          TerminalText.escape(
              String.format(
                  Locale.ROOT,
                  "%-28s %-12s %-7s %10s %10s %7.2f %5.0f%%  %s",
                  target.id(),
                  outcome.machine(),
                  target.role().key(),
                  figure(target.published()) + unit,
                  figure(outcome.model()) + unit,
                  outcome.ratio(),
                  target.tolerance() * 100,
                  status)));
      out.println(TerminalText.escape("    " + target.title()));
      out.println(TerminalText.escape("    source: " + target.source()));
    }
    out.println(
        String.format(
            Locale.ROOT,
            "%d within tolerance, %d outside, %d known gaps (role gap: reported, never failing)",
            outcomes.size() - outside - gaps,
            outside,
            gaps));
    out.flush();
  }

  private static String figure(double value) {
    return value >= 100
        ? String.format(Locale.ROOT, "%,.0f", value)
        : String.format(Locale.ROOT, "%.3f", value);
  }

  /** Runs {@code measure} (once per distinct run) and reads its metric. */
  private double measure(
      IsaRegistry registry,
      String machineName,
      Measure measure,
      String where,
      Map<String, JsonNode> runs)
      throws UserInputException {
    String key = machineName + "|" + measure.workload() + "|" + measure.params() + measure.sets();
    JsonNode result = runs.get(key);
    if (result == null) {
      LoadedMachine loaded = load(registry, machineName, measure.sets(), where, measure);
      try {
        result =
            JSON.readTree(
                ResultJson.toJson(
                    SimulationRunner.runWithStats(
                            registry,
                            loaded,
                            Workloads.get(measure.workload()),
                            measure.params(),
                            seed,
                            List.of(),
                            () -> false,
                            RunObserver.NONE)
                        .result()));
      } catch (WorkloadException e) {
        throw new UserInputException(where + measure.pointer() + ": " + e.getMessage());
      } catch (SimulatedOutOfMemoryException e) {
        throw new UserInputException(
            where + measure.pointer() + ": --machine " + machineName + ": " + e.getMessage());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      runs.put(key, result);
    }
    JsonNode value = result.at(measure.metric());
    if (!value.isNumber()) {
      throw new UserInputException(
          where
              + measure.pointer()
              + "/metric: \""
              + measure.metric()
              + "\" is "
              + (value.isMissingNode() ? "not in" : "not a number in")
              + " the result of "
              + measure.workload()
              + " on "
              + machineName
              + " (expected: a pointer to a number, such as /latency/flush_tlb_range/mean)");
    }
    return value.asDouble() / measure.divideBy();
  }

  private static LoadedMachine load(
      IsaRegistry registry, String machineName, List<String> sets, String where, Measure measure)
      throws UserInputException {
    try {
      return RunExecutor.loadMachine(registry, machineName, sets);
    } catch (UserInputException e) {
      List<String> lines = new ArrayList<>();
      for (String line : e.lines()) {
        lines.add(where + measure.pointer() + ": " + line);
      }
      throw new UserInputException(lines);
    }
  }
}
