package org.mmuemu.benchmarks;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;
import org.mmuemu.kernel.workload.StreamWorkload;
import org.mmuemu.kernel.workload.WorkloadException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole {@code mmuemu run --workload stream} through {@link Simulation#run}: two threads on a
 * two-core arm64 N1-shaped machine, each making 50,000 data accesses (each after one instruction
 * fetch) over its own 8 MiB working set, which is more than the 1280-entry L2 TLB reaches, so the
 * run mixes hits, walks and demand faults.
 *
 * <p>Scores are data accesses per second over both threads ({@link OperationsPerInvocation} is
 * {@code threads x accesses}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class StreamBenchmark {
  static final int THREADS = 2;
  static final int ACCESSES_PER_THREAD = 50_000;

  @Param({"random", "sequential"})
  public String pattern;

  private MachineSpec spec;
  private Isa isa;
  private Map<String, String> params;

  @Setup(Level.Trial)
  public void setUp() {
    spec = BenchmarkMachines.machine("arm64", THREADS);
    isa = BenchmarkMachines.isa(spec);
    params =
        Map.of(
            "threads",
            Integer.toString(THREADS),
            "workingSetBytes",
            "8MiB",
            "accesses",
            Integer.toString(ACCESSES_PER_THREAD),
            "pattern",
            pattern,
            "writeFraction",
            "0.3");
  }

  @Benchmark
  @OperationsPerInvocation(THREADS * ACCESSES_PER_THREAD)
  public RunResult stream() throws WorkloadException {
    return Simulation.run(
        SimulationRequest.of(spec, isa, "bench", new StreamWorkload(), params, 1));
  }
}
