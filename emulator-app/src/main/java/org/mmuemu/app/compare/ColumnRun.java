package org.mmuemu.app.compare;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.CycleDistribution;
import org.mmuemu.core.metrics.CycleDistribution.CdfPoint;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.result.RunResult;

/**
 * A finished column: its result plus what the report needs beyond the result's percentiles, copied
 * out of the run's statistics (so nothing mutable is kept): the cumulative latency distributions
 * per operation and for walks, and the cycle breakdown per component.
 *
 * @param frequencyGHz the machine's clock, to turn cycles into simulated time
 * @param latencyCdfs per operation, sorted by name
 * @param walkCdf walk cycles
 * @param walkCyclesTotal exact sum of walk cycles
 * @param componentCycles per {@link CycleComponent#key()}, in enum order, summed over cores
 */
public record ColumnRun(
    Column column,
    RunResult result,
    double frequencyGHz,
    Map<String, List<CdfPoint>> latencyCdfs,
    List<CdfPoint> walkCdf,
    long walkCyclesTotal,
    Map<String, Long> componentCycles) {

  /** CDF points kept per distribution: enough for a smooth curve, small enough for a report. */
  static final int CDF_POINTS = 120;

  public static ColumnRun of(Column column, RunResult result, RunStats stats, double frequencyGHz) {
    Map<String, List<CdfPoint>> cdfs = new TreeMap<>();
    for (Map.Entry<String, CycleDistribution> op : stats.latencies().entrySet()) {
      cdfs.put(op.getKey(), op.getValue().cdf(CDF_POINTS));
    }
    Map<String, Long> components = new LinkedHashMap<>();
    for (CycleComponent component : CycleComponent.values()) {
      components.put(component.key(), stats.componentCycles(component));
    }
    return new ColumnRun(
        column,
        result,
        frequencyGHz,
        cdfs,
        stats.walkCycles().cdf(CDF_POINTS),
        stats.walkCycles().sum(),
        components);
  }

  /** Sum of every core's clock: the core-cycles the breakdown divides up. */
  long coreCyclesTotal() {
    long total = 0;
    for (long cycles : result.cycles().perCore()) {
      total += cycles;
    }
    return total;
  }
}
