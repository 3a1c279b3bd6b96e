package org.mmuemu.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.mmuemu.configs.ConfigException;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.EventKind;
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
    JsonLinesTraceWriter traceWriter = openTrace(loaded);
    RunResult result;
    try {
      result = SimulationRunner.run(registry, loaded, workload, params, options.seed,
          traceWriter == null ? List.of() : List.of(traceWriter), () -> false);
      if (traceWriter != null) {
        traceWriter.commit();
      }
    } catch (WorkloadException e) {
      throw new UserInputException(e.getMessage());
    } catch (SimulatedOutOfMemoryException e) {
      throw new UserInputException("--machine " + options.machine + ": " + e.getMessage());
    } catch (IOException | UncheckedIOException e) {
      throw new UserInputException("--trace " + options.trace + ": cannot write (" + e.getMessage() + ")");
    } finally {
      if (traceWriter != null) {
        traceWriter.abandon();
      }
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

  private JsonLinesTraceWriter openTrace(LoadedMachine loaded) throws UserInputException {
    if (options.trace == null) {
      if (!options.traceEvents.isEmpty()) {
        throw new UserInputException("--trace-events: needs --trace <file> to say where the events go");
      }
      return null;
    }
    long mask = 0;
    if (options.traceEvents.isEmpty()) {
      for (EventKind kind : EventKind.values()) {
        mask |= kind.bit();
      }
      mask &= ~(EventKind.TLB_HIT.bit() | EventKind.TLB_FILL.bit() | EventKind.FRAME_ALLOC.bit()
          | EventKind.FRAME_FREE.bit());
    }
    for (String name : options.traceEvents) {
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
    List<String> levelNames = loaded.spec().tlbLevels().stream().map(TlbLevelSpec::name).toList();
    try {
      return new JsonLinesTraceWriter(options.trace, mask, levelNames);
    } catch (IOException e) {
      throw new UserInputException("--trace " + options.trace + ": cannot write (" + e + ")");
    }
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
