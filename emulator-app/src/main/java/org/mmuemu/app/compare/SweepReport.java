package org.mmuemu.app.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.result.RunResult.LatencySummary;
import org.mmuemu.core.result.RunResult.TlbCounts;

/**
 * A finished sweep as a table (one row per run: its axes, then its metrics) for CSV, and charts of
 * each metric against each numeric swept parameter for the HTML report. Rows are in plan order and
 * metrics in a fixed order, so the same results give the same bytes.
 */
public final class SweepReport {
  /** One run of the sweep: its index, id, value on each axis, and result. */
  public record SweepRun(int index, String id, Map<String, String> axes, RunResult result) {}

  private final String workload;
  private final List<String> axes;
  private final List<String> metricNames;
  private final List<Map<String, Double>> metrics = new ArrayList<>();
  private final List<SweepRun> runs;
  private final List<Charts.LineChart> charts = new ArrayList<>();

  public SweepReport(String workload, List<String> axes, List<SweepRun> runs) {
    this.workload = workload;
    this.axes = List.copyOf(axes);
    this.runs = List.copyOf(runs);
    Set<String> names = new LinkedHashSet<>();
    for (SweepRun run : runs) {
      Map<String, Double> values = metricsOf(run.result());
      metrics.add(values);
      names.addAll(values.keySet());
    }
    Set<String> fixed = new LinkedHashSet<>();
    Set<String> rest = new TreeSet<>();
    for (String name : names) {
      (name.startsWith("latency.")
                  || name.startsWith("tlb.")
                  || name.startsWith("maintenance.byInstruction.")
              ? rest
              : fixed)
          .add(name);
    }
    metricNames = new ArrayList<>(fixed);
    metricNames.addAll(rest);
    addCharts();
  }

  private static Map<String, Double> metricsOf(RunResult result) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("cycles.total", (double) result.cycles().total());
    values.put("translations", (double) result.translations());
    values.put("walks.count", (double) result.walks().count());
    values.put("walks.cycles.mean", result.walks().cycles().mean());
    values.put("maintenance.ipis", (double) result.maintenance().ipis());
    values.put("maintenance.fullFlushes", (double) result.maintenance().fullFlushes());
    values.put("violations", (double) result.violationTotal());
    for (Map.Entry<String, TlbCounts> level : result.tlb().entrySet()) {
      TlbCounts counts = level.getValue();
      if (counts.lookups() > 0) {
        values.put("tlb." + level.getKey() + ".hitRate", (double) counts.hits() / counts.lookups());
      }
    }
    result
        .maintenance()
        .byInstruction()
        .forEach((name, count) -> values.put("maintenance.byInstruction." + name, (double) count));
    for (Map.Entry<String, LatencySummary> op : result.latency().entrySet()) {
      LatencySummary s = op.getValue();
      values.put("latency." + op.getKey() + ".count", (double) s.count());
      values.put("latency." + op.getKey() + ".mean", s.mean());
      values.put("latency." + op.getKey() + ".p50", (double) s.p50());
      values.put("latency." + op.getKey() + ".p99", (double) s.p99());
      values.put("latency." + op.getKey() + ".max", (double) s.max());
    }
    return values;
  }

  /**
   * A chart per numeric swept axis (params, sets, variants whose values are all numbers and differ)
   * and per plotted metric (total cycles, IPIs, walks, and the mean latency of every operation all
   * runs have); a line per combination of the other axes.
   */
  private void addCharts() {
    List<String> plotted =
        new ArrayList<>(List.of("cycles.total", "maintenance.ipis", "walks.count"));
    for (String name : metricNames) {
      if (name.startsWith("latency.")
          && name.endsWith(".mean")
          && metrics.stream().allMatch(values -> values.containsKey(name))) {
        plotted.add(name);
      }
    }
    for (String axis : axes) {
      if (axis.equals("machine") || axis.equals("seed") || !numericAndSwept(axis)) {
        continue;
      }
      for (String metric : plotted) {
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        for (int i = 0; i < runs.size(); i++) {
          StringBuilder key = new StringBuilder();
          for (Map.Entry<String, String> other : runs.get(i).axes().entrySet()) {
            if (!other.getKey().equals(axis)) {
              key.append(key.length() == 0 ? "" : " ")
                  .append(other.getKey())
                  .append('=')
                  .append(other.getValue());
            }
          }
          Double value = metrics.get(i).get(metric);
          if (value != null) {
            series
                .computeIfAbsent(key.toString(), k -> new ArrayList<>())
                .add(new double[] {Double.parseDouble(runs.get(i).axes().get(axis)), value});
          }
        }
        series.values().forEach(points -> points.sort((a, b) -> Double.compare(a[0], b[0])));
        charts.add(
            Charts.lines(
                "sweep-" + charts.size(),
                metric + " against " + axis,
                axis,
                new ArrayList<>(series.keySet()),
                new ArrayList<>(series.values())));
      }
    }
  }

  private boolean numericAndSwept(String axis) {
    Set<String> values = new TreeSet<>();
    for (SweepRun run : runs) {
      String value = run.axes().get(axis);
      try {
        Double.parseDouble(value);
      } catch (NumberFormatException | NullPointerException e) {
        return false;
      }
      values.add(value);
    }
    return values.size() > 1;
  }

  /**
   * The CSV: a header, then a row per run (index, id, axes, metrics; empty where a run has none).
   */
  public String csv() {
    StringBuilder csv = new StringBuilder();
    List<String> header = new ArrayList<>(List.of("index", "id"));
    header.addAll(axes);
    header.addAll(metricNames);
    row(csv, header);
    for (int i = 0; i < runs.size(); i++) {
      SweepRun run = runs.get(i);
      List<String> cells = new ArrayList<>(List.of(Integer.toString(run.index()), run.id()));
      for (String axis : axes) {
        cells.add(run.axes().getOrDefault(axis, ""));
      }
      for (String metric : metricNames) {
        Double value = metrics.get(i).get(metric);
        cells.add(
            value == null
                ? ""
                : value == Math.rint(value) && Math.abs(value) < 1e15
                    ? Long.toString(value.longValue())
                    : String.format(Locale.ROOT, "%.6g", value));
      }
      row(csv, cells);
    }
    return csv.toString();
  }

  private static void row(StringBuilder csv, List<String> cells) {
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      csv.append(i == 0 ? "" : ",");
      if (cell.contains(",") || cell.contains("\"") || cell.contains("\n")) {
        csv.append('"').append(cell.replace("\"", "\"\"")).append('"');
      } else {
        csv.append(cell);
      }
    }
    csv.append('\n');
  }

  public String workload() {
    return workload;
  }

  public int runCount() {
    return runs.size();
  }

  public List<String> axes() {
    return axes;
  }

  public List<Charts.LineChart> charts() {
    return charts;
  }

  /** The rows for the HTML table: axes then the headline metrics. */
  public List<List<String>> rows() {
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      List<String> row = new ArrayList<>();
      row.add(Integer.toString(runs.get(i).index()));
      for (String axis : axes) {
        row.add(runs.get(i).axes().getOrDefault(axis, ""));
      }
      row.add(ReportTable.format(metrics.get(i).get("cycles.total"), ReportTable.Format.COUNT));
      row.add(ReportTable.format(metrics.get(i).get("maintenance.ipis"), ReportTable.Format.COUNT));
      row.add(ReportTable.format(metrics.get(i).get("violations"), ReportTable.Format.COUNT));
      rows.add(row);
    }
    return rows;
  }
}
