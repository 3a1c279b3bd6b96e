package org.mmuemu.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.mmuemu.configs.ConfigException;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.app.trace.TraceFormat;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * Loads the machine, runs the simulation, adds the host facts, writes the result and prints
 * the summary: the part {@code run} and {@code replay} share.
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
    long traceMask = traceMask();
    ChromeTraceFile chromeTrace = options.traceFormat == TraceFormat.chrome ? openChromeTrace(loaded, traceMask) : null;
    JsonLinesTraceWriter traceWriter = chromeTrace == null ? openTrace(loaded, traceMask) : null;
    RunResult result;
    Interruption interruption = Interruption.install();
    ProgressDisplay progress = ProgressDisplay.wanted(options.quiet || options.json)
        ? ProgressDisplay.forRun(workload.name() + " on " + loaded.spec().name(), null) : null;
    try {
      List<TraceSink> sinks = traceWriter != null ? List.of(traceWriter)
          : chromeTrace != null ? List.of(chromeTrace.sink()) : List.of();
      result = SimulationRunner.runWithStats(registry, loaded, workload, params, options.seed, sinks,
          interruption::requested, RunObserver.all(chromeTrace == null ? RunObserver.NONE : chromeTrace.observer(),
              progress == null ? RunObserver.NONE : progress.runObserver())).result();
      if (traceWriter != null) {
        traceWriter.commit();
      }
    } catch (CancellationException e) {
      // The finally block below cleans up before the hook lets the JVM exit.
      err.println("interrupted (Ctrl-C or SIGTERM): the run stopped; no result written"
          + (chromeTrace != null ? ", the Chrome trace up to the stop is in " + options.trace
          : traceWriter != null ? ", no trace written" : ""));
      err.flush();
      return ExitCodes.INTERRUPTED;
    } catch (WorkloadException e) {
      throw new UserInputException(e.getMessage());
    } catch (SimulatedOutOfMemoryException e) {
      throw new UserInputException("--machine " + options.machine + ": " + e.getMessage());
    } catch (IOException | UncheckedIOException e) {
      throw new UserInputException("--trace " + options.trace + ": cannot write (" + e.getMessage() + ")");
    } finally {
      if (progress != null) {
        progress.close();
      }
      if (traceWriter != null) {
        traceWriter.abandon();
      }
      if (chromeTrace != null) {
        completeChromeTrace(chromeTrace);
      }
      interruption.close();
    }
    if (options.out != null) {
      try {
        ResultJson.writeAtomically(result, options.out);
      } catch (IOException e) {
        throw new UserInputException("--out " + options.out + ": cannot write (" + e.getMessage() + ")");
      }
    }
    if (options.json) {
      out.print(ResultJson.toJson(result));
      out.flush();
    }
    if (!options.quiet) {
      PrintWriter summaryStream = options.json ? err : out;
      new Summary(result, loaded.spec().frequencyGHz()).print(summaryStream, options.out);
      summaryStream.flush();
    }
    return SimulationRunner.exitCodeOf(result);
  }

  private ChromeTraceFile openChromeTrace(LoadedMachine loaded, long mask) throws UserInputException {
    if (options.trace == null) {
      return null;
    }
    try {
      return new ChromeTraceFile(options.trace, 1, loaded.spec().name(), loaded.spec().frequencyGHz(), mask,
          levelNames(loaded));
    } catch (IOException e) {
      throw new UserInputException("--trace " + options.trace + ": cannot write (" + e + ")");
    }
  }

  /** Ends a Chrome trace, also after a failed run: the file is then valid up to the stop. */
  private void completeChromeTrace(ChromeTraceFile chromeTrace) throws UserInputException {
    try {
      chromeTrace.complete();
    } catch (IOException e) {
      throw new UserInputException("--trace " + options.trace + ": cannot write (" + e.getMessage() + ")");
    }
  }

  private JsonLinesTraceWriter openTrace(LoadedMachine loaded, long mask) throws UserInputException {
    if (options.trace == null) {
      return null;
    }
    try {
      return new JsonLinesTraceWriter(options.trace, mask, levelNames(loaded));
    } catch (IOException e) {
      throw new UserInputException("--trace " + options.trace + ": cannot write (" + e + ")");
    }
  }

  private static List<String> levelNames(LoadedMachine loaded) {
    return loaded.spec().tlbLevels().stream().map(TlbLevelSpec::name).toList();
  }

  private long traceMask() throws UserInputException {
    return traceMask(options.trace, options.traceEvents);
  }

  /** The kinds {@code --trace-events} asks for (the default set when it is not given). */
  static long traceMask(java.nio.file.Path trace, List<String> traceEvents) throws UserInputException {
    if (trace == null) {
      if (!traceEvents.isEmpty()) {
        throw new UserInputException("--trace-events: needs --trace <file> to say where the events go");
      }
      return 0;
    }
    long mask = 0;
    if (traceEvents.isEmpty()) {
      for (EventKind kind : EventKind.values()) {
        mask |= kind.bit();
      }
      mask &= ~(EventKind.TLB_HIT.bit() | EventKind.TLB_FILL.bit() | EventKind.FRAME_ALLOC.bit()
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
