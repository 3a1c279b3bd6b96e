package org.mmuemu.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.mmuemu.app.compare.Column;
import org.mmuemu.app.compare.ColumnRun;
import org.mmuemu.app.compare.Comparison;
import org.mmuemu.app.compare.ReportTemplates;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.app.trace.TraceFormat;
import org.mmuemu.app.version.VersionProvider;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.registry.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmuemu compare}: one workload on several machines (or variants of one), side by side.
 * Columns run in parallel on a bounded pool; each is deterministic and the report is built from the
 * results in column order, so it is byte-identical whatever {@code --jobs} is.
 */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Run one workload on several machines or variants and write a side-by-side report "
            + "(Markdown, self-contained HTML with charts, JSON).",
    footer = {
      "",
      "Examples:",
      "  mmuemu compare --machine arm64-neoverse-n1 --machine x86-skylake --workload munmap-storm "
          + "--report report.html --markdown report.md",
      "  mmuemu compare --spec compare.json --report report.html"
    })
final class CompareCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./=:,@%+-]+");

  @Spec CommandSpec spec;

  @Option(
      names = "--machine",
      paramLabel = "<name|file>",
      description =
          "A machine to compare (built-in name or config file); one column each. Repeatable.")
  List<String> machines = new ArrayList<>();

  @Option(
      names = "--spec",
      paramLabel = "<file>",
      description =
          "A comparison file: workload, seed, shared params and columns (label, machine, sets, params).")
  Path specFile;

  @Option(
      names = "--workload",
      paramLabel = "<name>",
      description =
          "The workload every column runs (see 'mmuemu list workloads'); overrides the spec's.")
  String workload;

  @Option(
      names = "--param",
      paramLabel = "name=value",
      description = "A workload parameter for every column. Repeatable.")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(
      names = "--set",
      paramLabel = "/pointer=value",
      description = "A config override for every column, before the column's own. Repeatable.")
  List<String> sets = new ArrayList<>();

  @Option(
      names = "--seed",
      paramLabel = "N",
      description = "The seed of every column (default: the spec's, else 1).")
  Long seed;

  @Option(
      names = "--report",
      paramLabel = "<file.html>",
      description = "Write the self-contained HTML report (inline SVG charts, no network needed).")
  Path report;

  @Option(
      names = "--markdown",
      paramLabel = "<file.md>",
      description = "Write the report as GitHub-flavoured Markdown.")
  Path markdown;

  @Option(
      names = "--out",
      paramLabel = "<file.json>",
      description = "Write every column's result JSON to one file.")
  Path out;

  @Option(
      names = "--trace",
      paramLabel = "<file>",
      description =
          "Write each column's events to a file of its own: the column's label goes before the "
              + "extension (trace.json -> trace.<label>.json).")
  Path trace;

  @Mixin TraceOptions.Format traceFormat;

  @Mixin TraceOptions.Events traceEvents;

  /** The traces of columns Ctrl-C stopped, as each column thread ended them. */
  private final List<TraceFile.Stopped> stoppedTraces =
      java.util.Collections.synchronizedList(new ArrayList<>());

  @Option(
      names = "--jobs",
      paramLabel = "N",
      description =
          "Columns run at once (default: the host's processors). The report does not depend on it.")
  Integer jobs;

  @Option(
      names = {"-q", "--quiet"},
      description = "Print nothing on success (errors still go to stderr).")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    List<Column> columns = columns();
    Workload resolvedWorkload;
    try {
      resolvedWorkload = Workloads.get(workload);
    } catch (WorkloadException e) {
      throw new UserInputException("--workload " + e.getMessage());
    }
    int poolSize = jobs == null ? Runtime.getRuntime().availableProcessors() : jobs;
    if (poolSize < 1) {
      throw new UserInputException("--jobs: " + poolSize + " (expected: >= 1)");
    }
    IsaRegistry registry = IsaRegistry.load();
    List<LoadedMachine> loaded = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Column column : columns) {
      List<String> overrides = new ArrayList<>(sets);
      overrides.addAll(column.sets());
      try {
        loaded.add(RunExecutor.loadMachine(registry, column.machine(), overrides));
      } catch (UserInputException e) {
        e.lines().forEach(line -> problems.add("column " + column.label() + ": " + line));
      }
    }
    if (!problems.isEmpty()) {
      throw new UserInputException(problems);
    }
    // Every output is opened before the columns run: a wrong path fails now, not after them.
    OutputFile markdownOutput = null;
    OutputFile reportOutput = null;
    OutputFile resultsOutput = null;
    try {
      markdownOutput = markdown == null ? null : RunExecutor.openOutput("--markdown", markdown);
      reportOutput = report == null ? null : RunExecutor.openOutput("--report", report);
      resultsOutput = out == null ? null : RunExecutor.openOutput("--out", out);
      return runAndReport(
          registry,
          columns,
          loaded,
          resolvedWorkload,
          poolSize,
          markdownOutput,
          reportOutput,
          resultsOutput);
    } finally {
      for (OutputFile output : new OutputFile[] {markdownOutput, reportOutput, resultsOutput}) {
        if (output != null) {
          output.abort();
        }
      }
    }
  }

  private int runAndReport(
      IsaRegistry registry,
      List<Column> columns,
      List<LoadedMachine> loaded,
      Workload resolvedWorkload,
      int poolSize,
      OutputFile markdownOutput,
      OutputFile reportOutput,
      OutputFile resultsOutput)
      throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    long effectiveSeed = seed == null ? 1 : seed;
    long traceMask = RunExecutor.traceMask(trace, traceEvents.traceEvents);
    List<ParallelRuns.ObservedRun<ColumnRun>> tasks = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      Column column = columns.get(i);
      LoadedMachine machine = loaded.get(i);
      ColumnTrace columnTrace =
          new ColumnTrace(
              trace == null ? null : columnTracePath(trace, column.label()),
              traceFormat.traceFormat,
              traceMask,
              i + 1);
      tasks.add(
          (cancelled, observer) ->
              runColumn(
                  registry,
                  column,
                  machine,
                  resolvedWorkload,
                  effectiveSeed,
                  columnTrace,
                  cancelled,
                  observer));
    }
    List<ColumnRun> runs;
    try {
      runs =
          ParallelRuns.runObserved(
              "compare",
              columns.stream().map(Column::label).toList(),
              tasks,
              poolSize,
              ProgressDisplay.wanted(quiet),
              () -> {
                spec.commandLine()
                    .getErr()
                    .println(
                        "interrupted (Ctrl-C or SIGTERM): the columns stopped; "
                            + TraceFile.keptMessage(
                                "no report written", List.copyOf(stoppedTraces)));
                spec.commandLine().getErr().flush();
              });
    } catch (ColumnFailure e) {
      throw e.input;
    } catch (CancellationException e) {
      return ExitCodes.INTERRUPTED;
    }
    Comparison comparison = new Comparison(commandLine(), VersionProvider.version(), runs);
    String markdownText = ReportTemplates.text("compare.md.mustache", comparison);
    if (markdownOutput != null) {
      commit(markdownOutput, markdownText);
    }
    if (reportOutput != null) {
      commit(reportOutput, ReportTemplates.html("compare.html.mustache", comparison));
    }
    if (resultsOutput != null) {
      commit(resultsOutput, resultsJson(comparison, runs));
    }
    if (!quiet) {
      if (markdown == null && report == null) {
        stdout.print(markdownText);
      }
      for (Path written : new Path[] {markdown, report, out}) {
        if (written != null) {
          stdout.println("wrote " + written);
        }
      }
      stdout.flush();
    }
    return runs.stream().anyMatch(run -> run.result().violationTotal() > 0)
        ? ExitCodes.VIOLATIONS
        : ExitCodes.OK;
  }

  /** The columns from the flags or the spec file; sets {@link #workload} and {@link #seed}. */
  private List<Column> columns() throws UserInputException {
    if (specFile != null) {
      if (!machines.isEmpty()) {
        throw new UserInputException(
            "--spec: cannot be combined with --machine (put every column in the file)");
      }
      CompareSpec compareSpec = CompareSpec.read(specFile);
      workload = workload == null ? compareSpec.workload() : workload;
      seed = seed == null ? compareSpec.seed() : seed;
      Map<String, String> shared = new LinkedHashMap<>(compareSpec.params());
      shared.putAll(params);
      List<Column> columns = new ArrayList<>();
      for (Column column : compareSpec.columns()) {
        Map<String, String> merged = new LinkedHashMap<>(shared);
        merged.putAll(column.params());
        columns.add(new Column(column.label(), column.machine(), column.sets(), merged));
      }
      return columns;
    }
    if (machines.isEmpty()) {
      throw new UserInputException("--machine: at least one is required (or --spec <file>)");
    }
    if (workload == null) {
      throw new UserInputException("--workload: required (see 'mmuemu list workloads')");
    }
    List<Column> columns = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (String machine : machines) {
      String base = Path.of(machine).getFileName().toString().replaceFirst("\\.json$", "");
      base = base.replaceAll("[^A-Za-z0-9._+-]", "_");
      String label = base;
      for (int n = 2; labels.contains(label); n++) {
        label = base + "-" + n;
      }
      labels.add(label);
      columns.add(new Column(label, machine, List.of(), params));
    }
    return columns;
  }

  /** Where and how a column's trace goes; {@code path} null for none. */
  private record ColumnTrace(Path path, TraceFormat format, long kindMask, int pid) {}

  /** {@code trace.json} and label {@code n1} give {@code trace.n1.json}. */
  static Path columnTracePath(Path trace, String label) {
    String name = trace.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String columnName =
        dot > 0 ? name.substring(0, dot) + "." + label + name.substring(dot) : name + "." + label;
    return trace.resolveSibling(columnName);
  }

  private ColumnRun runColumn(
      IsaRegistry registry,
      Column column,
      LoadedMachine machine,
      Workload workloadToRun,
      long runSeed,
      ColumnTrace columnTrace,
      BooleanSupplier cancelled,
      RunObserver progressObserver)
      throws ColumnFailure {
    TraceFile trace = null;
    try {
      if (columnTrace.path() != null) {
        trace =
            TraceFile.open(
                columnTrace.path(),
                columnTrace.format(),
                machine,
                columnTrace.kindMask(),
                columnTrace.pid(),
                column.label(),
                Long.MAX_VALUE);
      }
      Simulation.Outcome outcome =
          SimulationRunner.runWithStats(
              registry,
              machine,
              workloadToRun,
              column.params(),
              runSeed,
              trace == null ? List.of() : List.of(trace.sink()),
              cancelled,
              RunObserver.all(
                  trace == null ? RunObserver.NONE : trace.observer(), progressObserver));
      if (trace != null) {
        trace.complete();
      }
      return ColumnRun.of(column, outcome.result(), outcome.stats(), machine.spec().frequencyGHz());
    } catch (CancellationException e) {
      if (trace != null) {
        // Said by the command once every column has stopped.
        stoppedTraces.add(trace.stop(TraceFile.Stop.INTERRUPTED, null));
      }
      throw e;
    } catch (UserInputException e) {
      throw new ColumnFailure(e);
    } catch (OutputFileException e) {
      throw new ColumnFailure(new UserInputException(e.getMessage()));
    } catch (java.io.UncheckedIOException e) {
      throw new ColumnFailure(
          new UserInputException(
              "--trace "
                  + columnTrace.path()
                  + ": cannot write ("
                  + e.getCause().getMessage()
                  + ")"));
    } catch (WorkloadException e) {
      throw failed(trace, "column " + column.label() + ": " + e.getMessage());
    } catch (SimulatedOutOfMemoryException e) {
      throw failed(
          trace,
          "column " + column.label() + ": --machine " + column.machine() + ": " + e.getMessage());
    } catch (RuntimeException | Error e) {
      TraceFile.stopUnexpected(trace, e);
      throw e;
    } finally {
      if (trace != null) {
        trace.abandon();
      }
    }
  }

  /** A column that failed during its run: its trace ended and kept, the error and what was kept. */
  private static ColumnFailure failed(TraceFile trace, String message) {
    if (trace == null) {
      return new ColumnFailure(new UserInputException(message));
    }
    return new ColumnFailure(
        new UserInputException(
            List.of(
                message,
                TraceFile.keptMessage(
                    "column stopped", List.of(trace.stop(TraceFile.Stop.FAILED, message))))));
  }

  /** Carries a column's bad-input error out of the pool. */
  private static final class ColumnFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient UserInputException input;

    ColumnFailure(UserInputException input) {
      super(input.getMessage(), null, false, false);
      this.input = input;
    }
  }

  private static void commit(OutputFile output, String text) throws UserInputException {
    try {
      output.writer().write(text);
      output.commit();
    } catch (OutputFileException e) {
      throw new UserInputException(e.getMessage());
    } catch (IOException e) {
      throw new UserInputException(output.failure(e).getMessage());
    }
  }

  private String resultsJson(Comparison comparison, List<ColumnRun> runs) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("schemaVersion", 1);
    root.put("command", comparison.command());
    root.put("version", comparison.version());
    ArrayNode columnNodes = root.putArray("columns");
    for (ColumnRun run : runs) {
      ObjectNode node = columnNodes.addObject();
      node.put("label", run.column().label());
      node.put("machine", run.column().machine());
      ArrayNode setNodes = node.putArray("sets");
      sets.forEach(setNodes::add);
      run.column().sets().forEach(setNodes::add);
      ObjectNode breakdown = node.putObject("cycleBreakdown");
      run.componentCycles().forEach(breakdown::put);
      node.put("walkCyclesTotal", run.walkCyclesTotal());
      node.set("result", JSON.readTree(ResultJson.toJson(run.result())));
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
  }

  /**
   * The command as given, quoted for a POSIX shell, without {@code --jobs} (it cannot change the
   * report, and leaving it out keeps reports of the same comparison identical). Options before
   * {@code compare} (there are none that change a run) come along as given.
   */
  private String commandLine() {
    List<String> args = spec.commandLine().getParseResult().originalArgs();
    StringBuilder text = new StringBuilder("mmuemu");
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--jobs")) {
        i++;
        continue;
      }
      if (arg.startsWith("--jobs=")) {
        continue;
      }
      text.append(' ')
          .append(SHELL_SAFE.matcher(arg).matches() ? arg : "'" + arg.replace("'", "'\\''") + "'");
    }
    return text.toString();
  }
}
