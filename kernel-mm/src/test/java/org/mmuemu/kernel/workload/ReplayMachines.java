package org.mmuemu.kernel.workload;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;

/**
 * Small one-core machines for replay tests, built in code (the configs module and its JSON
 * loader are not a dependency of kernel-mm): 256 MiB of memory, 4 KiB TLB entries only, LRU.
 */
final class ReplayMachines {
  static final long MEMORY_BYTES = 256L << 20;
  static final long SEED = 42;

  private ReplayMachines() {}

  /** A 4 KiB-only LRU level. */
  static TlbLevelSpec level(String name, Serves serves, int entries, int ways, int hitCycles) {
    return new TlbLevelSpec(name, serves, entries, ways, List.of(4096L), hitCycles, Replacement.LRU);
  }

  /** A one-core machine of {@code isa} with the given TLB levels, in lookup order. */
  static MachineSpec machine(String isa, List<TlbLevelSpec> levels) {
    return KernelBoot.on(isa).name("replay-test-" + isa).cores(1).memoryBytes(MEMORY_BYTES).tlbLevels(levels)
        .walker(new WalkerSpec(List.of(40, 40, 40, 40), 2, List.of(new WalkerSpec.WalkCacheSpec(1, 8)))).spec();
  }

  static Isa isa(MachineSpec spec) {
    return KernelBoot.isa(spec);
  }

  /** Replays {@code trace} on {@code spec} and returns the result (host left null). */
  static RunResult replay(MachineSpec spec, Path trace, boolean lenient) throws WorkloadException {
    return replay(spec, trace, lenient, List.of());
  }

  /** Replays with trace sinks attached. */
  static RunResult replay(MachineSpec spec, Path trace, boolean lenient, List<TraceSink> sinks)
      throws WorkloadException {
    return Simulation.run(new SimulationRequest(spec, isa(spec), "test", new ReplayWorkload(trace, lenient), Map.of(),
        SEED, sinks, () -> false));
  }

  /** The result's {@code kernel.replay} section. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> replaySection(RunResult result) {
    return (Map<String, Object>) result.kernel().get("replay");
  }
}
