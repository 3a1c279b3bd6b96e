package org.mmuemu.kernel.run;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.workload.Workload;

/**
 * Everything one run needs.
 *
 * @param spec the validated machine
 * @param isa the ISA created from {@code spec}'s ISA section
 * @param configSha256 hash of the resolved config, reported in the result
 * @param workload what to run
 * @param params {@code --param} values as given (checked and completed by the run)
 * @param seed the run's only source of randomness
 * @param sinks trace sinks to attach; may be empty
 * @param cancelled polled during the run; true stops it
 * @param observer told when the machine is built and each time {@code cancelled} is polled; it only
 *     reads, so a run is the same with or without it
 */
public record SimulationRequest(
    MachineSpec spec,
    Isa isa,
    String configSha256,
    Workload workload,
    Map<String, String> params,
    long seed,
    List<TraceSink> sinks,
    BooleanSupplier cancelled,
    RunObserver observer) {

  public SimulationRequest {
    params = Map.copyOf(params);
    sinks = List.copyOf(sinks);
  }

  /** A request nobody observes. */
  public SimulationRequest(
      MachineSpec spec,
      Isa isa,
      String configSha256,
      Workload workload,
      Map<String, String> params,
      long seed,
      List<TraceSink> sinks,
      BooleanSupplier cancelled) {
    this(spec, isa, configSha256, workload, params, seed, sinks, cancelled, RunObserver.NONE);
  }

  /** A request with no sinks and no cancellation. */
  public static SimulationRequest of(
      MachineSpec spec,
      Isa isa,
      String configSha256,
      Workload workload,
      Map<String, String> params,
      long seed) {
    return new SimulationRequest(
        spec, isa, configSha256, workload, params, seed, List.of(), () -> false);
  }
}
