package org.mmuemu.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ScenarioLoader;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.scenario.ScenarioWorkload;
import org.mmuemu.kernel.scenario.Schedule;
import org.mmuemu.kernel.workload.WorkloadException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mmuemu scenario}: one race scenario under its scripted order or a given schedule. */
@Command(
    name = "scenario",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Run a race scenario (see 'mmuemu list scenarios') under its scripted order, or under a "
            + "schedule 'mmuemu explore' printed, and tell what happened: which CPU did what at which "
            + "cycle, and each violation with its history. Exit 0 when the outcome is the one the "
            + "scenario expects for the variant, 1 when not, 2 on bad input.",
    footer = {"", "Example:", "  mmuemu scenario lazy-free-publish-uaf --variant buggy"})
final class ScenarioCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ScenarioSupport.Options target;

  @Option(
      names = "--schedule",
      paramLabel = "<schedule>",
      description =
          "Replay this schedule (core:count,... as 'mmuemu explore' prints it) instead of the scripted order.")
  String schedule;

  @Option(
      names = "--out",
      paramLabel = "<file>",
      description = "Write the result JSON to this file.")
  Path out;

  @Option(
      names = "--trace",
      paramLabel = "<file>",
      description = "Write the run's events to this file (see --trace-format).")
  Path trace;

  @Mixin TraceOptions.Format traceFormat;

  @Mixin TraceOptions.Events traceEvents;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    ScenarioSupport.checkVariant(target.variant);
    Schedule replay = null;
    if (schedule != null) {
      try {
        replay = Schedule.parse(schedule);
      } catch (IllegalArgumentException e) {
        throw new UserInputException("--schedule: " + e.getMessage());
      }
    }
    ScenarioLoader.LoadedScenario loaded = ScenarioSupport.load(target.scenario);
    IsaRegistry registry = IsaRegistry.load();
    LoadedMachine machineConfig =
        ScenarioSupport.machine(registry, loaded, target.variant, target.machine);
    long traceMask = RunExecutor.traceMask(trace, traceEvents.traceEvents);
    OutputFile resultOutput = out == null ? null : RunExecutor.openOutput("--out", out);
    TraceFile traceFile = null;
    ScenarioWorkload workload =
        replay == null
            ? ScenarioWorkload.scripted(loaded.scenario())
            : ScenarioWorkload.replaying(loaded.scenario(), replay);
    RunResult result;
    try {
      if (trace != null) {
        traceFile =
            TraceFile.open(
                trace,
                traceFormat.traceFormat,
                machineConfig,
                traceMask,
                1,
                machineConfig.spec().name(),
                Long.MAX_VALUE);
      }
      result =
          RunExecutor.runAndWrite(
              registry,
              machineConfig,
              workload,
              Map.of(),
              1,
              traceFile,
              resultOutput,
              () -> false,
              RunObserver.NONE);
    } catch (WorkloadException e) {
      throw new UserInputException(e.getMessage());
    } catch (UncheckedIOException e) {
      throw new UserInputException(
          "--trace " + trace + ": cannot write (" + e.getCause().getMessage() + ")");
    } catch (IOException e) {
      throw new UserInputException("--out " + out + ": cannot write (" + e.getMessage() + ")");
    } catch (CancellationException e) {
      return ExitCodes.INTERRUPTED;
    } finally {
      if (traceFile != null) {
        traceFile.abandon();
      }
      if (resultOutput != null) {
        resultOutput.abort();
      }
    }
    stdout.printf(
        "scenario %s, variant %s, on %s, %s%n%n",
        loaded.scenario().name(),
        target.variant,
        machineConfig.spec().name(),
        replay == null ? "scripted order" : "schedule " + schedule.trim());
    ScenarioSupport.printStory(stdout, workload.narrative(), result);
    for (String note : workload.scheduleNotes()) {
      stdout.println(note);
    }
    List<String> expected = loaded.scenario().expectedFor(target.variant);
    List<String> observed = ScenarioSupport.kinds(result);
    boolean asExpected = expected.equals(observed);
    stdout.println();
    stdout.printf(
        "expected %s, observed %s: %s%n",
        ScenarioSupport.kindsText(expected),
        ScenarioSupport.kindsText(observed),
        asExpected ? "as expected" : "NOT as expected");
    stdout.flush();
    return asExpected ? ExitCodes.OK : ExitCodes.VIOLATIONS;
  }
}
