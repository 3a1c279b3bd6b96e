package org.mmuemu.app;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.mmuemu.configs.ConfigException;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ScenarioLoader;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.oracle.Violation;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.scenario.Narrative;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What {@code scenario} and {@code explore} share: loading, and printing a run's story. */
final class ScenarioSupport {
  private ScenarioSupport() {}

  /** The options {@code scenario} and {@code explore} share: which scenario, variant, machine. */
  static final class Options {
    @Parameters(
        index = "0",
        paramLabel = "<name|file>",
        description = "A built-in scenario (see 'mmuemu list scenarios') or a scenario file.")
    String scenario;

    @Option(
        names = "--variant",
        required = true,
        paramLabel = "buggy|fixed",
        description = "Which kernel: the bug's, or the fix's.")
    String variant;

    @Option(
        names = "--machine",
        paramLabel = "<name|file>",
        description = "Run on this machine instead of the scenario's (its overrides still apply).")
    String machine;
  }

  static ScenarioLoader.LoadedScenario load(String nameOrPath) throws UserInputException {
    try {
      return ScenarioLoader.load(nameOrPath);
    } catch (ConfigException e) {
      throw new UserInputException(e.lines());
    }
  }

  static String checkVariant(String variant) throws UserInputException {
    if (!ScenarioLoader.VARIANTS.contains(variant)) {
      throw new UserInputException(
          "--variant: "
              + variant
              + " (expected one of: "
              + String.join(", ", ScenarioLoader.VARIANTS)
              + ")");
    }
    return variant;
  }

  static LoadedMachine machine(
      IsaRegistry registry, ScenarioLoader.LoadedScenario scenario, String variant, String machine)
      throws UserInputException {
    try {
      return ScenarioLoader.loadMachine(registry, scenario, variant, machine);
    } catch (ConfigException e) {
      throw new UserInputException(e.lines());
    }
  }

  /** The distinct violation kinds of a result, sorted. */
  static List<String> kinds(RunResult result) {
    return List.copyOf(new TreeSet<>(result.violationCounts().keySet()));
  }

  static String kindsText(List<String> kinds) {
    return kinds.isEmpty() ? "none" : String.join(", ", kinds);
  }

  /** The narrative, then each violation with its history. */
  static void printStory(PrintWriter out, Narrative narrative, RunResult result) {
    out.println("      cycle  cpu   what");
    for (String line : narrative.lines()) {
      out.println(line);
    }
    out.println();
    if (result.violations().isEmpty()) {
      out.println("violations: none");
      return;
    }
    out.println("violations: " + result.violationCounts());
    for (Violation v : result.violations()) {
      out.printf(
          Locale.ROOT,
          "  %s on cpu%d at cycle %,d%s%s: %s%n",
          v.kind(),
          v.core(),
          v.cycle(),
          v.va() == null ? "" : ", va " + v.va(),
          v.pa() == null ? "" : ", pa " + v.pa(),
          v.detail());
      for (String event : v.history()) {
        out.println("      " + event);
      }
    }
  }
}
