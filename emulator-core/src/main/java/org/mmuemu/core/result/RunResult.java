package org.mmuemu.core.result;

import java.util.List;
import java.util.Map;
import org.mmuemu.core.oracle.Violation;

/**
 * The result of one run (schema version 1, {@code configs/schema/result.schema.json}).
 *
 * <p>Everything except {@link #host} is a pure function of the machine config, the workload, its
 * parameters and the seed: two runs with the same inputs give byte-identical JSON outside {@code
 * host}. Maps are sorted by key.
 *
 * @param schemaVersion 1
 * @param cycles simulated cycles: the makespan and each core's clock at the end
 * @param translations pages translated (an access spanning two pages is two)
 * @param tlb per TLB level, summed over cores
 * @param tlbPerCore per core, per level
 * @param kernel kernel-model counters (faults, frames, and per-feature counters)
 * @param latency per operation, distributions in simulated cycles
 * @param violationCounts per violation kind, every one found (the list keeps the first 1000)
 */
public record RunResult(
    int schemaVersion,
    MachineInfo machine,
    WorkloadInfo workload,
    long seed,
    Cycles cycles,
    long translations,
    Map<String, TlbCounts> tlb,
    List<Map<String, TlbCounts>> tlbPerCore,
    Walks walks,
    Maintenance maintenance,
    Map<String, Object> kernel,
    Map<String, LatencySummary> latency,
    Map<String, Long> violationCounts,
    List<Violation> violations,
    Host host) {

  public static final int SCHEMA_VERSION = 1;

  /** The machine that ran. */
  public record MachineInfo(String name, String isa, int cores, String configSha256) {}

  /** The workload and its parameters as given (defaults filled in), sorted by name. */
  public record WorkloadInfo(String name, Map<String, String> params) {}

  /** Simulated cycles: {@code total} is the largest core clock. */
  public record Cycles(long total, List<Long> perCore) {}

  /** Lookups of one TLB level; {@code lookups == hits + misses}. */
  public record TlbCounts(long lookups, long hits, long misses) {}

  /** Hardware page-table walks. */
  public record Walks(long count, long memoryRefs, long pwcHits, LatencySummary cycles) {}

  /** TLB maintenance executed: instruction counts by ISA name, IPIs sent, whole-space flushes. */
  public record Maintenance(Map<String, Long> byInstruction, long ipis, long fullFlushes) {}

  /** A distribution of simulated cycles. */
  public record LatencySummary(
      long count, double mean, long p50, long p90, long p99, long p999, long max) {}

  /**
   * Facts about the host run, excluded from determinism: the wall time, the mmuemu and Java
   * versions, what ran the cores' work ({@code continuation}, {@code virtual} or {@code platform})
   * and how many times it switched between them ({@code handOvers}: what exact ordering cost).
   */
  public record Host(
      double wallSeconds,
      double translationsPerSecond,
      String version,
      String java,
      String workers,
      long handOvers) {}

  /** Returns this result with {@code host} set. */
  public RunResult withHost(Host newHost) {
    return new RunResult(
        schemaVersion,
        machine,
        workload,
        seed,
        cycles,
        translations,
        tlb,
        tlbPerCore,
        walks,
        maintenance,
        kernel,
        latency,
        violationCounts,
        violations,
        newHost);
  }

  /** Total violations found. */
  public long violationTotal() {
    return violationCounts.values().stream().mapToLong(Long::longValue).sum();
  }
}
