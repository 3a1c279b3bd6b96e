package org.mmuemu.kernel.run;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.result.ResultBuilder;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadArgs;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * Runs one workload on one machine: builds the machine, boots the kernel, prepares the workload,
 * runs the cores' programs with the deterministic scheduler, and collects the result.
 *
 * <p>The same request always gives the same result (the {@code host} part is left for the caller,
 * who owns the wall clock). Runs on the calling thread; separate runs share nothing.
 */
public final class Simulation {
  private Simulation() {}

  /**
   * A finished run: its result and the statistics it was built from, whose distributions
   * (HdrHistograms) and cycle breakdown reports read beyond the result's percentiles. The
   * statistics are no longer written to once the run has returned. {@code handOvers} is the host's
   * count of switches between workers ({@link Machine#handOvers}).
   */
  public record Outcome(RunResult result, RunStats stats, long handOvers) {}

  /**
   * @throws WorkloadException for bad parameters or a malformed trace: the user's input
   * @throws CancellationException when {@code request.cancelled()} stopped the run
   */
  public static RunResult run(SimulationRequest request) throws WorkloadException {
    return runWithStats(request).result();
  }

  /**
   * Like {@link #run}, also returning the run's statistics.
   *
   * @throws WorkloadException for bad parameters or a malformed trace: the user's input
   * @throws CancellationException when {@code request.cancelled()} stopped the run
   */
  public static Outcome runWithStats(SimulationRequest request) throws WorkloadException {
    ConfigSection kernelSection = request.spec().kernelSection();
    KernelConfig kernelConfig =
        KernelConfig.read(new ConfigSection(kernelSection.pointer(), kernelSection.asMap()));
    Machine machine = new Machine(request.spec(), request.isa(), request.seed());
    for (TraceSink sink : request.sinks()) {
      machine.traceBus().addSink(sink);
    }
    try {
      Kernel kernel = new Kernel(machine, kernelConfig);
      Workload workload = request.workload();
      WorkloadArgs params = WorkloadArgs.resolve(workload, request.params());
      Workload.PreparedWorkload prepared = workload.prepare(kernel, params, request.seed());
      boolean[] stopped = new boolean[1];
      request.observer().started(machine);
      machine.run(
          prepared.programs(),
          () -> {
            request.observer().polled(machine);
            return stopped[0] = request.cancelled().getAsBoolean();
          });
      if (stopped[0]) {
        throw new CancellationException("run cancelled");
      }
      Map<String, Object> kernelCounters = new TreeMap<>(kernel.counters());
      kernelCounters.put("unresolvedFaults", machine.unresolvedFaults());
      kernelCounters.putAll(prepared.counters());
      RunResult.MachineInfo machineInfo =
          new RunResult.MachineInfo(
              request.spec().name(),
              request.isa().id(),
              request.spec().cores(),
              request.configSha256());
      RunResult.WorkloadInfo workloadInfo =
          new RunResult.WorkloadInfo(workload.name(), new TreeMap<>(prepared.effectiveParams()));
      return new Outcome(
          ResultBuilder.build(machine, machineInfo, workloadInfo, request.seed(), kernelCounters),
          machine.stats(),
          machine.handOvers());
    } finally {
      machine.traceBus().close();
    }
  }
}
