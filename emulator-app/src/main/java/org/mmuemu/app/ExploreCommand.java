package org.mmuemu.app;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ScenarioLoader;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.scenario.Explorer;
import org.mmuemu.kernel.scenario.ScenarioWorkload;
import org.mmuemu.kernel.workload.WorkloadException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mmuemu explore}: searches a scenario's interleavings for a violation. */
@Command(
    name = "explore",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Search a race scenario's interleavings (ignoring its scripted order) at its preemption "
            + "points, lock acquires and step ends for a violation. Prints the first violating "
            + "schedule, its story and the command that replays it. Exit 1 when a violation was found, "
            + "0 when the budget ran out clean, 2 on bad input. Progress goes to stderr.",
    footer = {
      "",
      "Example:",
      "  mmuemu explore lazy-free-publish-uaf --variant buggy --strategy pct --seed 7"
    })
final class ExploreCommand implements Callable<Integer> {
  static final long DEFAULT_SCHEDULES = 200;

  @Spec CommandSpec spec;

  @Mixin ScenarioSupport.Options target;

  @Option(
      names = "--schedules",
      paramLabel = "N",
      defaultValue = "" + DEFAULT_SCHEDULES,
      description = "The most schedules to run (default: ${DEFAULT-VALUE}).")
  long schedules;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "1",
      description =
          "The search's seed (random, pct); the same seed gives the same schedules (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--strategy",
      paramLabel = "random|pct|exhaustive",
      defaultValue = "random",
      description =
          "How to choose: uniformly at random, by PCT priorities, or every schedule up to --depth preemptions (default: ${DEFAULT-VALUE}).")
  String strategy;

  @Option(
      names = "--depth",
      paramLabel = "D",
      defaultValue = "3",
      description =
          "pct: the bug depth (D-1 priority change points); exhaustive: the most preemptions per schedule (default: ${DEFAULT-VALUE}).")
  int depth;

  @Option(
      names = "--reduction",
      paramLabel = "sleep-sets|none",
      defaultValue = "sleep-sets",
      description =
          "exhaustive: skip schedules that only reorder independent segments of one already run (sleep sets), or run every one; random and pct ignore it (default: ${DEFAULT-VALUE}).")
  String reduction;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    ScenarioSupport.checkVariant(target.variant);
    Explorer.Strategy chosen = strategy();
    if (schedules < 1) {
      throw new UserInputException("--schedules: " + schedules + " (expected: at least 1)");
    }
    if (depth < 1 || depth > 64) {
      throw new UserInputException("--depth: " + depth + " (expected: 1 to 64)");
    }
    if (!reduction.equals("sleep-sets") && !reduction.equals("none")) {
      throw new UserInputException(
          "--reduction: " + reduction + " (expected one of: sleep-sets, none)");
    }
    boolean reduce = reduction.equals("sleep-sets");
    ScenarioLoader.LoadedScenario loaded = ScenarioSupport.load(target.scenario);
    IsaRegistry registry = IsaRegistry.load();
    LoadedMachine machineConfig =
        ScenarioSupport.machine(registry, loaded, target.variant, target.machine);
    long startNanos = System.nanoTime();
    long[] lastReport = {startNanos};
    Explorer.Outcome outcome;
    try (Interruption interruption = Interruption.install()) {
      try {
        outcome =
            Explorer.explore(
                loaded.scenario(),
                new Explorer.Settings(chosen, schedules, seed, depth, reduce),
                workload -> run(registry, machineConfig, workload),
                done -> {
                  long now = System.nanoTime();
                  if (now - lastReport[0] >= 1_000_000_000L) {
                    lastReport[0] = now;
                    stderr.println(progress(done, now - startNanos));
                    stderr.flush();
                  }
                },
                interruption::requested);
      } catch (WorkloadException e) {
        throw new UserInputException(e.getMessage());
      }
      if (outcome.stopped()) {
        // Said here, before the hook lets the JVM exit; nothing was written, so nothing is lost.
        stderr.println(
            "interrupted (Ctrl-C or SIGTERM): explore stopped after "
                + outcome.schedulesRun()
                + " schedules, no violation found in them");
        stderr.flush();
        return ExitCodes.INTERRUPTED;
      }
    }
    long elapsed = System.nanoTime() - startNanos;
    String what =
        String.format(
            Locale.ROOT,
            "explore %s, variant %s, on %s, strategy %s%s, seed %d",
            loaded.scenario().name(),
            target.variant,
            machineConfig.spec().name(),
            chosen.cliName(),
            chosen == Explorer.Strategy.EXHAUSTIVE ? " (reduction " + reduction + ")" : "",
            seed);
    String pruned =
        reduce && chosen == Explorer.Strategy.EXHAUSTIVE
            ? "; sleep sets pruned " + outcome.prunedBranches() + " branches"
            : "";
    stderr.println(progress(outcome.schedulesRun(), elapsed));
    stderr.flush();
    if (outcome.found() == null) {
      stdout.printf(
          "%s: no violation in %d schedules%s%s%n",
          what,
          outcome.schedulesRun(),
          outcome.exhausted() ? " (every schedule with at most " + depth + " preemptions)" : "",
          pruned);
      stdout.flush();
      return ExitCodes.OK;
    }
    stdout.printf(
        "%s: schedule %d of %d shows %s%s%n%n",
        what,
        outcome.schedulesRun(),
        schedules,
        ScenarioSupport.kindsText(ScenarioSupport.kinds(outcome.result())),
        pruned);
    ScenarioWorkload replay = ScenarioWorkload.replaying(loaded.scenario(), outcome.found());
    RunResult replayed;
    try {
      replayed = run(registry, machineConfig, replay);
    } catch (WorkloadException e) {
      throw new UserInputException(e.getMessage());
    }
    ScenarioSupport.printStory(stdout, replay.narrative(), replayed);
    stdout.println();
    stdout.println("replay it with:");
    stdout.println(
        "  mmuemu scenario "
            + target.scenario
            + " --variant "
            + target.variant
            + (target.machine == null ? "" : " --machine " + target.machine)
            + " --schedule "
            + outcome.found());
    stdout.flush();
    return ExitCodes.VIOLATIONS;
  }

  private static String progress(long done, long elapsedNanos) {
    double seconds = Math.max(1e-9, elapsedNanos / 1e9);
    return String.format(
        Locale.ROOT,
        "explore: %d schedules in %.1f s, %.1f schedules/s",
        done,
        seconds,
        done / seconds);
  }

  private Explorer.Strategy strategy() throws UserInputException {
    for (Explorer.Strategy s : Explorer.Strategy.values()) {
      if (s.cliName().equals(strategy)) {
        return s;
      }
    }
    throw new UserInputException(
        "--strategy: " + strategy + " (expected one of: random, pct, exhaustive)");
  }

  private static RunResult run(
      IsaRegistry registry, LoadedMachine machine, ScenarioWorkload workload)
      throws WorkloadException {
    return SimulationRunner.run(registry, machine, workload, Map.of(), 1, List.of(), () -> false);
  }
}
