package org.mmuemu.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.mmuemu.app.compare.ReportTemplates;
import org.mmuemu.app.compare.SweepReport;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.registry.Workloads;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmuemu sweep}: a parameter grid as independent indexed runs that any batch system can
 * execute ({@code expand} writes the plan, {@code run --index N} runs one, {@code aggregate} merges
 * the results into a CSV and an HTML report).
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description =
        "Expand a parameter grid into indexed runs, run them (one by index, or all), aggregate the results.",
    subcommands = {SweepCommand.Expand.class, SweepCommand.Run.class, SweepCommand.Aggregate.class},
    footer = {
      "",
      "Example:",
      "  mmuemu sweep expand --grid sweep.json --plan plan.json",
      "  mmuemu sweep run --plan plan.json --all --jobs 4 --out-dir results",
      "  mmuemu sweep aggregate --plan plan.json --out-dir results --csv all.csv --report sweep.html"
    })
final class SweepCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required (expand, run, aggregate)");
  }

  /** {@code sweep expand}: the grid's runs, each with its config hash, into a plan file. */
  @Command(
      name = "expand",
      mixinStandardHelpOptions = true,
      description =
          "Write the plan: every run of the grid (machines x params x variants x sets x seeds), indexed.")
  static final class Expand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--grid",
        required = true,
        paramLabel = "<sweep.json>",
        description = "The grid.")
    Path grid;

    @Option(
        names = "--plan",
        required = true,
        paramLabel = "<plan.json>",
        description = "Where the plan goes.")
    Path plan;

    @Override
    public Integer call() throws Exception {
      SweepGrid sweepGrid = SweepGrid.read(grid);
      try {
        Workloads.get(sweepGrid.workload());
      } catch (WorkloadException e) {
        throw new UserInputException("--grid " + grid + ": /workload: " + e.getMessage());
      }
      IsaRegistry registry = IsaRegistry.load();
      List<SweepPlan.Run> runs = new ArrayList<>();
      List<String> problems = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (SweepGrid.Point point : sweepGrid.expand()) {
        int index = runs.size();
        LoadedMachine machine;
        try {
          machine = RunExecutor.loadMachine(registry, point.machine(), point.sets());
        } catch (UserInputException e) {
          e.lines()
              .forEach(line -> problems.add("run " + index + " " + point.axes() + ": " + line));
          continue;
        }
        String id =
            SweepPlan.runId(
                machine.configSha256(), sweepGrid.workload(), point.params(), point.seed());
        if (ids.contains(id)) {
          problems.add(
              "run "
                  + index
                  + " "
                  + point.axes()
                  + ": the same run as run "
                  + ids.indexOf(id)
                  + " (expected: every grid point to differ)");
        }
        ids.add(id);
        runs.add(
            new SweepPlan.Run(
                index,
                id,
                point.machine(),
                machine.configSha256(),
                point.sets(),
                point.params(),
                point.seed(),
                point.axes()));
      }
      if (!problems.isEmpty()) {
        throw new UserInputException(problems);
      }
      List<String> axes = new ArrayList<>();
      axes.add("machine");
      sweepGrid.axes().forEach(axis -> axes.add(axis.key()));
      axes.add("seed");
      SweepPlan sweepPlan = new SweepPlan(1, sweepGrid.workload(), axes, runs);
      OutputFiles.write(plan, "--plan", sweepPlan.toJson());
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%d runs (indices 0 to %d) written to %s%n", runs.size(), runs.size() - 1, plan);
      out.flush();
      return ExitCodes.OK;
    }
  }

  /** {@code sweep run}: one run by index, or all of them; a run whose result exists is skipped. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description =
          "Run one planned run (--index N, as a batch array task) or all (--all); a run whose result file "
              + "exists is skipped, so re-running is safe. Results are <out-dir>/<run id>.json; a run with violations "
              + "still exits 0 (violations are data here: aggregate reports them).")
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin PlanOption planOption;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
      @Option(
          names = "--index",
          paramLabel = "N",
          description =
              "The run to do (0-based; Kubernetes "
                  + "JOB_COMPLETION_INDEX, Slurm SLURM_ARRAY_TASK_ID).")
      Integer index;

      @Option(names = "--all", description = "Do every run of the plan.")
      boolean all;
    }

    @Option(
        names = "--out-dir",
        required = true,
        paramLabel = "<dir>",
        description = "Where results go (created).")
    Path outDir;

    @Option(
        names = "--jobs",
        paramLabel = "J",
        description = "With --all: runs at once (default: the host's " + "processors).")
    Integer jobs;

    @Option(
        names = {"-q", "--quiet"},
        description = "Print nothing on success.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
      SweepPlan sweepPlan = SweepPlan.read(planOption.plan);
      List<SweepPlan.Run> selected;
      if (which.all) {
        selected = sweepPlan.runs();
      } else {
        int index = which.index;
        if (index < 0 || index >= sweepPlan.runs().size()) {
          throw new UserInputException(
              "--index: "
                  + index
                  + " (expected: 0 to "
                  + (sweepPlan.runs().size() - 1)
                  + ", the plan's runs)");
        }
        selected = List.of(sweepPlan.runs().get(index));
      }
      int poolSize = jobs == null ? Runtime.getRuntime().availableProcessors() : jobs;
      if (poolSize < 1) {
        throw new UserInputException("--jobs: " + poolSize + " (expected: >= 1)");
      }
      try {
        Files.createDirectories(outDir);
      } catch (IOException e) {
        throw new UserInputException(
            "--out-dir " + outDir + ": cannot create (" + e.getMessage() + ")");
      }
      Workload workload;
      try {
        workload = Workloads.get(sweepPlan.workload());
      } catch (WorkloadException e) {
        throw new UserInputException(
            "--plan " + planOption.plan + ": /workload: " + e.getMessage());
      }
      IsaRegistry registry = IsaRegistry.load();
      PrintWriter out = spec.commandLine().getOut();
      List<ParallelRuns.ObservedRun<String>> tasks = new ArrayList<>();
      for (SweepPlan.Run run : selected) {
        tasks.add((cancelled, observer) -> runOne(registry, workload, run, cancelled, observer));
      }
      List<String> lines;
      try {
        lines =
            ParallelRuns.runObserved(
                "sweep",
                selected.stream().map(run -> "run " + run.index()).toList(),
                tasks,
                poolSize,
                ProgressDisplay.wanted(quiet),
                () -> {
                  spec.commandLine()
                      .getErr()
                      .println(
                          "interrupted (Ctrl-C or SIGTERM): runs in progress stopped and "
                              + "wrote nothing; finished results are kept, and running the same command again does only what is "
                              + "missing");
                  spec.commandLine().getErr().flush();
                });
      } catch (CancellationException e) {
        return ExitCodes.INTERRUPTED;
      }
      if (!quiet) {
        lines.forEach(out::println);
        out.flush();
      }
      return ExitCodes.OK;
    }

    private String runOne(
        IsaRegistry registry,
        Workload workload,
        SweepPlan.Run run,
        BooleanSupplier cancelled,
        RunObserver observer)
        throws UserInputException {
      Path result = run.resultFile(outDir);
      String name = "run " + run.index() + " (" + run.id() + ")";
      if (Files.exists(result)) {
        return name + ": " + result + " exists, skipped";
      }
      LoadedMachine machine = RunExecutor.loadMachine(registry, run.machine(), run.sets());
      if (!machine.configSha256().equals(run.configSha256())) {
        throw new UserInputException(
            name
                + ": machine "
                + run.machine()
                + " resolves to config "
                + machine.configSha256()
                + ", not the planned "
                + run.configSha256()
                + " (the config changed since "
                + "'sweep expand': expand again)");
      }
      RunResult runResult;
      try {
        runResult =
            SimulationRunner.runWithStats(
                    registry,
                    machine,
                    workload,
                    run.params(),
                    run.seed(),
                    List.of(),
                    cancelled,
                    observer)
                .result();
      } catch (WorkloadException e) {
        throw new UserInputException(name + ": " + e.getMessage());
      } catch (SimulatedOutOfMemoryException e) {
        throw new UserInputException(name + ": --machine " + run.machine() + ": " + e.getMessage());
      }
      OutputFiles.write(result, "--out-dir", ResultJson.toJson(runResult));
      return name + ": wrote " + result;
    }
  }

  /** {@code sweep aggregate}: every run's result into a CSV and an HTML report with plots. */
  @Command(
      name = "aggregate",
      mixinStandardHelpOptions = true,
      description =
          "Merge the results of a plan's runs into a CSV (a row per run) and an HTML report that plots "
              + "metrics against each numeric swept parameter.")
  static final class Aggregate implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin PlanOption planOption;

    @Option(
        names = "--out-dir",
        required = true,
        paramLabel = "<dir>",
        description = "Where the results are.")
    Path outDir;

    @Option(names = "--csv", paramLabel = "<all.csv>", description = "Write the CSV here.")
    Path csv;

    @Option(
        names = "--report",
        paramLabel = "<sweep.html>",
        description = "Write the HTML report here.")
    Path report;

    @Override
    public Integer call() throws Exception {
      SweepPlan sweepPlan = SweepPlan.read(planOption.plan);
      List<SweepReport.SweepRun> runs = new ArrayList<>();
      List<Integer> missing = new ArrayList<>();
      for (SweepPlan.Run run : sweepPlan.runs()) {
        Path file = run.resultFile(outDir);
        if (!Files.exists(file)) {
          missing.add(run.index());
          continue;
        }
        RunResult result;
        try {
          result = ResultJson.fromJson(Files.readString(file));
        } catch (IOException | RuntimeException e) {
          throw new UserInputException(
              file
                  + ": not a result JSON ("
                  + e.getMessage()
                  + "); delete it and run "
                  + "index "
                  + run.index()
                  + " again");
        }
        runs.add(new SweepReport.SweepRun(run.index(), run.id(), run.axes(), result));
      }
      if (!missing.isEmpty()) {
        throw new UserInputException(
            "--out-dir "
                + outDir
                + ": no result yet for runs "
                + missing
                + " (run them with 'mmuemu sweep run --plan "
                + planOption.plan
                + " --index N --out-dir "
                + outDir
                + "')");
      }
      SweepReport sweepReport = new SweepReport(sweepPlan.workload(), sweepPlan.axes(), runs);
      PrintWriter out = spec.commandLine().getOut();
      if (csv == null && report == null) {
        out.print(sweepReport.csv());
      }
      if (csv != null) {
        OutputFiles.write(csv, "--csv", sweepReport.csv());
        out.println("wrote " + csv);
      }
      if (report != null) {
        OutputFiles.write(
            report, "--report", ReportTemplates.html("sweep.html.mustache", sweepReport));
        out.println("wrote " + report);
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  /** {@code --plan} of the commands that read a plan ({@code run}, {@code aggregate}). */
  static final class PlanOption {
    @Option(
        names = "--plan",
        required = true,
        paramLabel = "<plan.json>",
        description = "The plan.")
    Path plan;
  }
}
