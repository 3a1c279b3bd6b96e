package org.mmuemu.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.app.trace.TraceFormat;
import org.mmuemu.configs.ConfigException;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;
import org.mmuemu.core.config.ByteSize;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * Loads the machine, runs the simulation, adds the host facts, writes the result and prints the
 * summary: the part {@code run} and {@code replay} share.
 */
final class RunExecutor {
  private final PrintWriter out;
  private final PrintWriter err;
  private final RunOptions options;

  RunExecutor(PrintWriter out, PrintWriter err, RunOptions options) {
    this.out = out;
    this.err = err;
    this.options = options;
  }

  int execute(Workload workload, Map<String, String> params) throws UserInputException {
    IsaRegistry registry = IsaRegistry.load();
    LoadedMachine loaded = loadMachine(registry, options.machine, options.overrides);
    // Every output is opened before the run: a wrong path fails now, not after the whole run.
    OutputFile resultOutput = options.out == null ? null : openOutput("--out", options.out);
    TraceFile trace = null;
    RunResult result;
    Interruption interruption = Interruption.install();
    ProgressDisplay progress = null;
    try {
      trace = openTrace(loaded);
      if (ProgressDisplay.wanted(options.quiet || options.json)) {
        progress = ProgressDisplay.forRun(workload.name() + " on " + loaded.spec().name(), null);
      }
      result =
          runAndWrite(
              registry,
              loaded,
              workload,
              params,
              options.seed,
              trace,
              resultOutput,
              interruption::requested,
              progress == null ? RunObserver.NONE : progress.runObserver());
    } catch (CancellationException e) {
      // Ended here, before the hooks let the JVM exit: the trace is kept whole, the result is not.
      err.println(
          "interrupted (Ctrl-C or SIGTERM): the run stopped; "
              + whatWasKept(trace, TraceFile.Stop.INTERRUPTED, null));
      err.flush();
      return ExitCodes.INTERRUPTED;
    } catch (WorkloadException e) {
      throw failed(trace, e.getMessage());
    } catch (SimulatedOutOfMemoryException e) {
      throw failed(trace, "--machine " + options.machine + ": " + e.getMessage());
    } catch (OutputFileException e) {
      throw new UserInputException(e.getMessage());
    } catch (UncheckedIOException e) {
      throw new UserInputException(
          "--trace " + options.trace + ": cannot write (" + e.getCause().getMessage() + ")");
    } catch (IOException e) {
      throw new UserInputException(
          "--out " + options.out + ": cannot write (" + e.getMessage() + ")");
    } catch (RuntimeException | Error e) {
      TraceFile.stopUnexpected(trace, e);
      throw e;
    } finally {
      if (progress != null) {
        progress.close();
      }
      if (trace != null) {
        trace.abandon();
      }
      if (resultOutput != null) {
        resultOutput.abort();
      }
      interruption.close();
    }
    if (options.json) {
      out.print(ResultJson.toJson(result));
      out.flush();
    }
    if (!options.quiet) {
      // With the result on stdout (--json, --out -) the summary goes to stderr.
      boolean resultOnStdout =
          options.json || (options.out != null && options.out.toString().equals("-"));
      PrintWriter summaryStream = resultOnStdout ? err : out;
      new Summary(result, loaded.spec().frequencyGHz()).print(summaryStream, options.out);
      if (trace instanceof JsonLinesTraceWriter lines && lines.eventsNotWritten() > 0) {
        summaryStream.printf(
            "  %-22s cut at --trace-max-bytes %d: %,d events written, %,d left out%n",
            "trace", traceMaxBytes(), lines.events(), lines.eventsNotWritten());
      }
      summaryStream.flush();
    }
    return SimulationRunner.exitCodeOf(result);
  }

  /**
   * Runs the simulation with the trace's sink and observer, then completes the trace and writes the
   * result: what every command that writes both shares.
   *
   * @param trace the open trace, or null
   * @param resultOutput the open result file, or null
   */
  static RunResult runAndWrite(
      IsaRegistry registry,
      LoadedMachine loaded,
      Workload workload,
      Map<String, String> params,
      long seed,
      TraceFile trace,
      OutputFile resultOutput,
      java.util.function.BooleanSupplier cancelled,
      RunObserver observer)
      throws WorkloadException, IOException {
    RunResult result =
        SimulationRunner.runWithStats(
                registry,
                loaded,
                workload,
                params,
                seed,
                trace == null ? List.of() : List.of(trace.sink()),
                cancelled,
                RunObserver.all(trace == null ? RunObserver.NONE : trace.observer(), observer))
            .result();
    if (trace != null) {
      trace.complete();
    }
    if (resultOutput != null) {
      resultOutput.writer().write(ResultJson.toJson(result));
      resultOutput.commit();
    }
    return result;
  }

  /** A failure during the run: its trace ended and kept, the error followed by what was kept. */
  private UserInputException failed(TraceFile trace, String message) {
    if (trace == null && options.out == null) {
      return new UserInputException(message);
    }
    return new UserInputException(
        List.of(message, whatWasKept(trace, TraceFile.Stop.FAILED, message)));
  }

  /**
   * Ends the trace of a run that stopped early and says what was kept: the trace, never the result.
   */
  private String whatWasKept(TraceFile trace, TraceFile.Stop stop, String error) {
    return TraceFile.keptMessage(
        options.out == null ? "no result written" : "no result written (--out " + options.out + ")",
        trace == null ? List.of() : List.of(trace.stop(stop, error)));
  }

  static OutputFile openOutput(String flag, Path path) throws UserInputException {
    try {
      return OutputFile.open(flag, path);
    } catch (OutputFileException e) {
      throw new UserInputException(e.getMessage());
    }
  }

  private long traceMaxBytes() throws UserInputException {
    if (options.traceMaxBytes == null) {
      return Long.MAX_VALUE;
    }
    try {
      long bytes = ByteSize.parse(options.traceMaxBytes);
      if (bytes <= 0) {
        throw new IllegalArgumentException("not positive");
      }
      return bytes;
    } catch (IllegalArgumentException e) {
      throw new UserInputException(
          "--trace-max-bytes: "
              + options.traceMaxBytes
              + " (expected: a positive size such as 1000000 or 100MiB)");
    }
  }

  static List<String> levelNames(LoadedMachine loaded) {
    return loaded.spec().tlbLevels().stream().map(TlbLevelSpec::name).toList();
  }

  private TraceFile openTrace(LoadedMachine loaded) throws UserInputException {
    long traceMask = traceMask(options.trace, options.traceEvents.traceEvents);
    if (options.trace == null) {
      if (options.traceMaxBytes != null) {
        throw new UserInputException(
            "--trace-max-bytes: needs --trace <file> to say where the events go");
      }
      return null;
    }
    if (options.traceFormat.traceFormat == TraceFormat.chrome && options.traceMaxBytes != null) {
      throw new UserInputException("--trace-max-bytes: only for --trace-format jsonl");
    }
    return TraceFile.open(
        options.trace,
        options.traceFormat.traceFormat,
        loaded,
        traceMask,
        1,
        loaded.spec().name(),
        traceMaxBytes());
  }

  /** The kinds {@code --trace-events} asks for (the default set when it is not given). */
  static long traceMask(Path trace, List<String> traceEvents) throws UserInputException {
    if (trace == null) {
      if (!traceEvents.isEmpty()) {
        throw new UserInputException(
            "--trace-events: needs --trace <file> to say where the events go");
      }
      return 0;
    }
    long mask = 0;
    if (traceEvents.isEmpty()) {
      for (EventKind kind : EventKind.values()) {
        mask |= kind.bit();
      }
      mask &=
          ~(EventKind.TLB_HIT.bit()
              | EventKind.TLB_FILL.bit()
              | EventKind.FRAME_ALLOC.bit()
              | EventKind.FRAME_FREE.bit());
    }
    for (String name : traceEvents) {
      if (name.trim().equalsIgnoreCase("all")) {
        mask = -1L;
        continue;
      }
      try {
        mask |= EventKind.fromDottedName(name.trim()).bit();
      } catch (IllegalArgumentException e) {
        throw new UserInputException("--trace-events " + e.getMessage());
      }
    }
    return mask;
  }

  /** Loads a machine config, turning config problems into user-input errors. */
  static LoadedMachine loadMachine(IsaRegistry registry, String machine, List<String> overrides)
      throws UserInputException {
    try {
      return new MachineConfigLoader(registry).load(machine, overrides);
    } catch (ConfigException e) {
      throw new UserInputException(List.of(e.getMessage().split("\n")));
    }
  }
}
