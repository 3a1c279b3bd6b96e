package org.mmuemu.app.runner;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.mmuemu.app.version.VersionProvider;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.run.RunObserver;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * Runs one loaded machine and workload and adds the host facts: the one path that {@code mmuemu
 * run}, {@code mmuemu replay} and the control port ({@code mmuemu serve}) share, so a run started
 * remotely gives the same result JSON as one started on the command line.
 *
 * <p>Runs on the calling thread. Stateless and thread-safe: concurrent runs share nothing.
 */
public final class SimulationRunner {
  private SimulationRunner() {}

  /**
   * Runs the simulation and returns its result with {@code host} filled in (wall seconds,
   * translations per second, version).
   *
   * @param registry the ISAs, to create the machine's ISA
   * @param loaded the validated machine
   * @param workload what to run
   * @param params workload parameters as given (checked by the run)
   * @param seed the run's seed
   * @param sinks trace sinks (may be empty); called on this thread
   * @param cancelled polled every few thousand scheduler steps; true stops the run
   * @throws WorkloadException for bad workload parameters or input: the user's input
   * @throws java.util.concurrent.CancellationException when {@code cancelled} stopped the run
   * @throws org.mmuemu.core.mem.SimulatedOutOfMemoryException when the machine's memory is too
   *     small for the workload
   */
  public static RunResult run(
      IsaRegistry registry,
      LoadedMachine loaded,
      Workload workload,
      Map<String, String> params,
      long seed,
      List<TraceSink> sinks,
      BooleanSupplier cancelled)
      throws WorkloadException {
    return runWithStats(
            registry, loaded, workload, params, seed, sinks, cancelled, RunObserver.NONE)
        .result();
  }

  /**
   * Like {@link #run}, also returning the run's statistics (latency histograms, cycle breakdown)
   * for reports.
   *
   * @param observer told, on this thread, when the machine is built and whenever {@code cancelled}
   *     is polled; it cannot change the run
   */
  public static Simulation.Outcome runWithStats(
      IsaRegistry registry,
      LoadedMachine loaded,
      Workload workload,
      Map<String, String> params,
      long seed,
      List<TraceSink> sinks,
      BooleanSupplier cancelled,
      RunObserver observer)
      throws WorkloadException {
    Isa isa = registry.get(loaded.spec().isa()).create(loaded.spec().isaSection());
    long startNanos = System.nanoTime();
    Simulation.Outcome outcome =
        Simulation.runWithStats(
            new SimulationRequest(
                loaded.spec(),
                isa,
                loaded.configSha256(),
                workload,
                params,
                seed,
                sinks,
                cancelled,
                observer));
    RunResult result = outcome.result();
    double wallSeconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    return new Simulation.Outcome(
        result.withHost(
            new RunResult.Host(
                round(wallSeconds, 3),
                Math.round(result.translations() / wallSeconds),
                VersionProvider.version(),
                System.getProperty("java.version"),
                Machine.workerKind(),
                outcome.handOvers())),
        outcome.stats(),
        outcome.handOvers());
  }

  /** The exit code of {@code mmuemu run} for a finished run: violations or not. */
  public static int exitCodeOf(RunResult result) {
    return result.violationTotal() > 0 ? ExitCodes.VIOLATIONS : ExitCodes.OK;
  }

  private static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }
}
