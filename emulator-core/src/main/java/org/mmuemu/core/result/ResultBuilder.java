package org.mmuemu.core.result;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.metrics.CycleDistribution;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.result.RunResult.LatencySummary;
import org.mmuemu.core.result.RunResult.TlbCounts;
import org.mmuemu.core.tlb.SetAssociativeTlb;

/** Turns a machine's state after a run into a {@link RunResult}. */
public final class ResultBuilder {
  private ResultBuilder() {}

  /**
   * Builds the result; {@code host} is left null for the caller, who owns the wall clock.
   *
   * @param kernel kernel counters and sections, already sorted as they should appear
   */
  public static RunResult build(
      Machine machine,
      RunResult.MachineInfo machineInfo,
      RunResult.WorkloadInfo workloadInfo,
      long seed,
      Map<String, Object> kernel) {
    List<Long> perCore = new ArrayList<>();
    for (long cycles : machine.clocks().snapshot()) {
      perCore.add(cycles);
    }
    Map<String, long[]> sums = new LinkedHashMap<>();
    List<Map<String, TlbCounts>> tlbPerCore = new ArrayList<>();
    for (int core = 0; core < machine.coreCount(); core++) {
      Map<String, TlbCounts> levels = new LinkedHashMap<>();
      for (SetAssociativeTlb tlb : machine.core(core).tlbLevels()) {
        levels.put(tlb.name(), new TlbCounts(tlb.lookups(), tlb.hits(), tlb.misses()));
        long[] sum = sums.computeIfAbsent(tlb.name(), k -> new long[3]);
        sum[0] += tlb.lookups();
        sum[1] += tlb.hits();
        sum[2] += tlb.misses();
      }
      tlbPerCore.add(levels);
    }
    Map<String, TlbCounts> tlb = new LinkedHashMap<>();
    sums.forEach((name, sum) -> tlb.put(name, new TlbCounts(sum[0], sum[1], sum[2])));

    RunStats stats = machine.stats();
    RunResult.Walks walks =
        new RunResult.Walks(
            stats.walks(),
            stats.walkMemoryRefs(),
            stats.walkCacheHits(),
            summarize(stats.walkCycles()));
    RunResult.Maintenance maintenance =
        new RunResult.Maintenance(stats.instructionCounts(), stats.ipis(), stats.fullFlushes());
    Map<String, LatencySummary> latency = new TreeMap<>();
    stats.latencies().forEach((name, histogram) -> latency.put(name, summarize(histogram)));
    Map<String, Long> violationCounts = new TreeMap<>();
    for (ViolationKind kind : ViolationKind.values()) {
      long count = machine.oracle().count(kind);
      if (count > 0) {
        violationCounts.put(kind.name(), count);
      }
    }
    return new RunResult(
        RunResult.SCHEMA_VERSION,
        machineInfo,
        workloadInfo,
        seed,
        new RunResult.Cycles(machine.clocks().max(), perCore),
        stats.translations(),
        tlb,
        tlbPerCore,
        walks,
        maintenance,
        kernel,
        latency,
        violationCounts,
        machine.oracle().recorded(),
        null);
  }

  /**
   * Summarizes a distribution: exact count, mean (to three decimals) and max; percentiles to three
   * significant digits. All zeros when empty.
   */
  public static LatencySummary summarize(CycleDistribution distribution) {
    double mean = Math.round(distribution.mean() * 1000.0) / 1000.0;
    return new LatencySummary(
        distribution.count(),
        mean,
        distribution.percentile(50),
        distribution.percentile(90),
        distribution.percentile(99),
        distribution.percentile(99.9),
        distribution.max());
  }
}
