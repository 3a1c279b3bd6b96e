package org.mmuemu.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;
import org.mmuemu.kernel.workload.ReplayWorkload;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole {@code mmuemu replay} of a real valgrind lackey trace ({@code traces/stride_sum.lackey},
 * copied from kernel-mm's test resources, where its README says how it was recorded), through
 * {@link Simulation#run}: machine build, kernel boot, trace parsing, demand paging and every
 * translation.
 *
 * <p>Scores are trace records replayed per second ({@link OperationsPerInvocation} is the number of
 * records; the 49 records that straddle a page make 105,300 translations).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class ReplayBenchmark {
  static final String TRACE = "stride_sum.lackey";

  /** Records in {@link #TRACE} (its lines less the 25 {@code ==} lines); checked at set-up. */
  static final int RECORDS = 105_251;

  @Param({"arm64", "x86"})
  public String isa;

  private Path traceFile;
  private MachineSpec spec;
  private Isa isaInstance;

  @Setup(Level.Trial)
  public void setUp() throws IOException, WorkloadException {
    traceFile = Files.createTempFile("mmuemu-bench-", "-" + TRACE);
    try (InputStream in = ReplayBenchmark.class.getResourceAsStream("/traces/" + TRACE)) {
      if (in == null) {
        throw new IllegalStateException("resource /traces/" + TRACE + " is missing from the jar");
      }
      Files.copy(in, traceFile, StandardCopyOption.REPLACE_EXISTING);
    }
    spec = BenchmarkMachines.machine(isa, 1);
    isaInstance = BenchmarkMachines.isa(spec);
    @SuppressWarnings("unchecked")
    Map<String, Object> replay = (Map<String, Object>) replay().kernel().get("replay");
    long records =
        (long) replay.get("fetches")
            + (long) replay.get("loads")
            + (long) replay.get("stores")
            + (long) replay.get("modifies");
    if (records != RECORDS) {
      throw new IllegalStateException(TRACE + " has " + records + " records; set RECORDS to match");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    Files.deleteIfExists(traceFile);
  }

  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public RunResult replay() throws WorkloadException {
    return Simulation.run(
        SimulationRequest.of(
            spec, isaInstance, "bench", new ReplayWorkload(traceFile, false), Map.of(), 1));
  }
}
