package org.mmuemu.app.compare;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.mmuemu.app.compare.ReportTable.Format;
import org.mmuemu.core.metrics.CycleDistribution.CdfPoint;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.result.RunResult.LatencySummary;
import org.mmuemu.core.result.RunResult.TlbCounts;

/**
 * The content of a comparison report, built from the finished columns: the header that lets anyone
 * reproduce it (command, tool version, config hashes), the tables and the charts. Both the Markdown
 * and the HTML renderings read this model; nothing in it depends on the host (no wall time), so the
 * same command gives the same report bytes whatever the pool size.
 *
 * <p>Mustache reads the public accessors by name.
 */
public final class Comparison {
  /** Operations whose latency is a TLB shootdown: Linux's flush entry points. */
  private static final String SHOOTDOWN_PREFIX = "flush_tlb";

  /** One column's identity, for the header table. */
  public record ColumnInfo(
      String label,
      String machine,
      String isa,
      int cores,
      String frequencyGHz,
      String configSha256,
      String sets,
      String params) {}

  private final String command;
  private final String version;
  private final String workload;
  private final long seed;
  private final List<ColumnInfo> columns = new ArrayList<>();
  private final List<ReportTable> tables = new ArrayList<>();
  private final List<Charts.BarChart> barCharts = new ArrayList<>();
  private final List<Charts.CdfChart> cdfCharts = new ArrayList<>();
  private Charts.StackedChart breakdownChart;

  /**
   * @param command the command line as the user gave it (without {@code --jobs}, which cannot
   *     change the result)
   * @param runs the finished columns, in column order
   */
  public Comparison(String command, String version, List<ColumnRun> runs) {
    this.command = command;
    this.version = version;
    RunResult first = runs.get(0).result();
    this.workload = first.workload().name();
    this.seed = first.seed();
    List<String> labels = runs.stream().map(run -> run.column().label()).toList();
    for (ColumnRun run : runs) {
      RunResult result = run.result();
      columns.add(
          new ColumnInfo(
              run.column().label(),
              result.machine().name(),
              result.machine().isa(),
              result.machine().cores(),
              String.format(Locale.ROOT, "%.2f", run.frequencyGHz()),
              result.machine().configSha256(),
              run.column().sets().isEmpty()
                  ? ReportTable.MISSING
                  : String.join(" ", run.column().sets()),
              params(result.workload().params())));
    }
    addRunTable(runs, labels);
    addTlbTable(runs, labels);
    addWalkTable(runs, labels);
    addMaintenanceTable(runs, labels);
    addLatencyTables(runs, labels);
    addBreakdown(runs, labels);
    addViolationTable(runs, labels);
  }

  private void addRunTable(List<ColumnRun> runs, List<String> labels) {
    ReportTable.Builder table = new ReportTable.Builder("Run", labels);
    table.row(
        "total cycles", Format.COUNT, values(runs, run -> (double) run.result().cycles().total()));
    table.row(
        "simulated time (us)",
        Format.DECIMAL1,
        values(runs, run -> run.result().cycles().total() / (run.frequencyGHz() * 1000.0)));
    table.row(
        "translations", Format.COUNT, values(runs, run -> (double) run.result().translations()));
    int maxCores =
        runs.stream().mapToInt(run -> run.result().cycles().perCore().size()).max().orElse(0);
    for (int core = 0; core < maxCores; core++) {
      int c = core;
      List<Double> perCore =
          values(
              runs,
              run ->
                  c < run.result().cycles().perCore().size()
                      ? (double) run.result().cycles().perCore().get(c)
                      : null);
      if (perCore.stream().anyMatch(cycles -> cycles != null && cycles > 0)) {
        table.row("core " + core + " cycles", Format.COUNT, perCore);
      }
    }
    table.row(
        "violations", Format.COUNT, values(runs, run -> (double) run.result().violationTotal()));
    tables.add(table.build());
    bar(
        "total-cycles",
        "Total cycles",
        labels,
        values(runs, run -> (double) run.result().cycles().total()),
        Format.COUNT);
    bar(
        "simulated-time",
        "Simulated time (us)",
        labels,
        values(runs, run -> run.result().cycles().total() / (run.frequencyGHz() * 1000.0)),
        Format.DECIMAL1);
  }

  private void addTlbTable(List<ColumnRun> runs, List<String> labels) {
    Set<String> levels = new LinkedHashSet<>();
    runs.forEach(run -> levels.addAll(run.result().tlb().keySet()));
    ReportTable.Builder table = new ReportTable.Builder("TLB (summed over cores)", labels);
    for (String level : levels) {
      table.row(
          level + " lookups",
          Format.COUNT,
          values(runs, run -> tlb(run, level, TlbCounts::lookups)));
      table.row(
          level + " misses", Format.COUNT, values(runs, run -> tlb(run, level, TlbCounts::misses)));
      table.row(
          level + " hit rate",
          Format.PERCENT,
          values(
              runs,
              run -> {
                TlbCounts counts = run.result().tlb().get(level);
                return counts == null || counts.lookups() == 0
                    ? null
                    : 100.0 * counts.hits() / counts.lookups();
              }));
    }
    tables.add(table.build());
  }

  private void addWalkTable(List<ColumnRun> runs, List<String> labels) {
    ReportTable.Builder table = new ReportTable.Builder("Page walks", labels);
    table.row("walks", Format.COUNT, values(runs, run -> (double) run.result().walks().count()));
    table.row(
        "memory references",
        Format.COUNT,
        values(runs, run -> (double) run.result().walks().memoryRefs()));
    table.row(
        "started below a walk-cache hit",
        Format.COUNT,
        values(runs, run -> (double) run.result().walks().pwcHits()));
    table.row("walk cycles", Format.COUNT, values(runs, run -> (double) run.walkCyclesTotal()));
    addSummaryRows(table, "walk cycles", runs, run -> run.result().walks().cycles());
    tables.add(table.build());
    bar(
        "walks",
        "Page walks",
        labels,
        values(runs, run -> (double) run.result().walks().count()),
        Format.COUNT);
    bar(
        "walk-cycles",
        "Walk cycles",
        labels,
        values(runs, run -> (double) run.walkCyclesTotal()),
        Format.COUNT);
    cdfCharts.add(
        Charts.cdf(
            "cdf-walks",
            "Walk cycles: cumulative distribution",
            labels,
            runs.stream().map(ColumnRun::walkCdf).toList()));
  }

  private void addMaintenanceTable(List<ColumnRun> runs, List<String> labels) {
    Set<String> instructions = new TreeSet<>();
    runs.forEach(run -> instructions.addAll(run.result().maintenance().byInstruction().keySet()));
    ReportTable.Builder table =
        new ReportTable.Builder("TLB maintenance and barriers (by instruction)", labels);
    for (String instruction : instructions) {
      table.row(
          instruction,
          Format.COUNT,
          values(
              runs,
              run -> {
                Long count = run.result().maintenance().byInstruction().get(instruction);
                return count == null ? 0.0 : count;
              }));
    }
    table.row(
        "IPIs", Format.COUNT, values(runs, run -> (double) run.result().maintenance().ipis()));
    table.row(
        "full flushes",
        Format.COUNT,
        values(runs, run -> (double) run.result().maintenance().fullFlushes()));
    tables.add(table.build());
    bar(
        "maintenance",
        "Maintenance and barrier instructions",
        labels,
        values(
            runs,
            run ->
                (double)
                    run.result().maintenance().byInstruction().values().stream()
                        .mapToLong(Long::longValue)
                        .sum()),
        Format.COUNT);
    bar(
        "ipis",
        "IPIs",
        labels,
        values(runs, run -> (double) run.result().maintenance().ipis()),
        Format.COUNT);
  }

  private void addLatencyTables(List<ColumnRun> runs, List<String> labels) {
    Set<String> operations = new TreeSet<>();
    runs.forEach(run -> operations.addAll(run.result().latency().keySet()));
    ReportTable.Builder table =
        new ReportTable.Builder("Kernel operation latency (cycles)", labels);
    ReportTable.Builder shootdowns =
        new ReportTable.Builder("TLB shootdown latency (flush_tlb_*, cycles)", labels);
    for (String operation : operations) {
      Function<ColumnRun, LatencySummary> summary = run -> run.result().latency().get(operation);
      table.row(
          operation + " count",
          Format.COUNT,
          values(runs, run -> value(summary.apply(run), s -> s.count())));
      addSummaryRows(table, operation, runs, summary);
      if (operation.startsWith(SHOOTDOWN_PREFIX)) {
        shootdowns.row(
            operation + " p50",
            Format.COUNT,
            values(runs, run -> value(summary.apply(run), s -> s.p50())));
        shootdowns.row(
            operation + " p90",
            Format.COUNT,
            values(runs, run -> value(summary.apply(run), s -> s.p90())));
        shootdowns.row(
            operation + " p99",
            Format.COUNT,
            values(runs, run -> value(summary.apply(run), s -> s.p99())));
        shootdowns.row(
            operation + " p99.9",
            Format.COUNT,
            values(runs, run -> value(summary.apply(run), s -> s.p999())));
        shootdowns.row(
            operation + " max",
            Format.COUNT,
            values(runs, run -> value(summary.apply(run), s -> s.max())));
      }
      bar(
          "mean-" + operation,
          operation + ": mean latency (cycles)",
          labels,
          values(runs, run -> value(summary.apply(run), LatencySummary::mean)),
          Format.DECIMAL1);
      cdfCharts.add(
          Charts.cdf(
              "cdf-" + operation,
              operation + " latency (cycles): cumulative distribution",
              labels,
              runs.stream()
                  .map(run -> run.latencyCdfs().getOrDefault(operation, List.<CdfPoint>of()))
                  .toList()));
    }
    if (!table.isEmpty()) {
      tables.add(table.build());
    }
    if (!shootdowns.isEmpty()) {
      tables.add(shootdowns.build());
    }
  }

  /**
   * Cycles per operation by component. The operation is the first column's costliest kernel
   * operation by total latency other than page faults (munmap in munmap-storm, vmalloc in
   * test_vmalloc; pageFault in stream, which has nothing else), so the bars read as "what one such
   * call costs the machine, summed over cores".
   */
  private void addBreakdown(List<ColumnRun> runs, List<String> labels) {
    List<String> components = new ArrayList<>(runs.get(0).componentCycles().keySet());
    components.add("other");
    String operation = costliestOperation(runs.get(0).result());
    ReportTable.Builder table =
        new ReportTable.Builder(
            operation == null
                ? "Core cycles by component (summed over cores)"
                : "Core cycles per " + operation + " by component (summed over cores)",
            labels);
    List<List<Double>> perColumn = new ArrayList<>();
    for (ColumnRun run : runs) {
      LatencySummary summary = operation == null ? null : run.result().latency().get(operation);
      double divisor = summary == null || summary.count() == 0 ? 1 : summary.count();
      List<Double> values = new ArrayList<>();
      long charged = 0;
      for (long cycles : run.componentCycles().values()) {
        values.add(cycles / divisor);
        charged += cycles;
      }
      values.add(Math.max(0, run.coreCyclesTotal() - charged) / divisor);
      perColumn.add(values);
    }
    if (operation != null) {
      table.row(
          operation + " calls",
          Format.COUNT,
          values(
              runs,
              run -> {
                LatencySummary summary = run.result().latency().get(operation);
                return summary == null ? null : (double) summary.count();
              }));
    }
    for (int c = 0; c < components.size(); c++) {
      int component = c;
      table.row(
          components.get(c),
          Format.DECIMAL1,
          perColumn.stream().map(values -> values.get(component)).toList());
    }
    table.row(
        "all core cycles",
        Format.DECIMAL1,
        perColumn.stream()
            .map(values -> values.stream().mapToDouble(Double::doubleValue).sum())
            .toList());
    tables.add(table.build());
    breakdownChart =
        Charts.stacked("breakdown", table.build().title(), labels, components, perColumn);
  }

  private void addViolationTable(List<ColumnRun> runs, List<String> labels) {
    Set<String> kinds = new TreeSet<>();
    runs.forEach(run -> kinds.addAll(run.result().violationCounts().keySet()));
    ReportTable.Builder table = new ReportTable.Builder("Violations", labels);
    for (String kind : kinds) {
      table.row(
          kind,
          Format.COUNT,
          values(runs, run -> (double) run.result().violationCounts().getOrDefault(kind, 0L)));
    }
    table.row("total", Format.COUNT, values(runs, run -> (double) run.result().violationTotal()));
    tables.add(table.build());
    bar(
        "violations",
        "Violations",
        labels,
        values(runs, run -> (double) run.result().violationTotal()),
        Format.COUNT);
  }

  private static String costliestOperation(RunResult result) {
    String best = null;
    double bestCycles = -1;
    for (Map.Entry<String, LatencySummary> op : result.latency().entrySet()) {
      // Page faults are the by-product of most workloads, not what they set out to measure:
      // the breakdown is per fault only when nothing else ran.
      double cycles =
          op.getKey().equals("pageFault") ? 0 : op.getValue().count() * op.getValue().mean();
      if (cycles > bestCycles) {
        best = op.getKey();
        bestCycles = cycles;
      }
    }
    return best;
  }

  private static void addSummaryRows(
      ReportTable.Builder table,
      String name,
      List<ColumnRun> runs,
      Function<ColumnRun, LatencySummary> summary) {
    table.row(
        name + " mean",
        Format.DECIMAL1,
        values(runs, run -> value(summary.apply(run), LatencySummary::mean)));
    table.row(
        name + " p50", Format.COUNT, values(runs, run -> value(summary.apply(run), s -> s.p50())));
    table.row(
        name + " p99", Format.COUNT, values(runs, run -> value(summary.apply(run), s -> s.p99())));
    table.row(
        name + " max", Format.COUNT, values(runs, run -> value(summary.apply(run), s -> s.max())));
  }

  private void bar(
      String id, String title, List<String> labels, List<Double> values, Format format) {
    barCharts.add(Charts.bars("bar-" + id, title, labels, values, format));
  }

  private static Double value(LatencySummary summary, Function<LatencySummary, Number> field) {
    return summary == null ? null : field.apply(summary).doubleValue();
  }

  private static Double tlb(ColumnRun run, String level, Function<TlbCounts, Long> field) {
    TlbCounts counts = run.result().tlb().get(level);
    return counts == null ? null : (double) field.apply(counts);
  }

  private static List<Double> values(List<ColumnRun> runs, Function<ColumnRun, Double> value) {
    List<Double> values = new ArrayList<>(runs.size());
    for (ColumnRun run : runs) {
      values.add(value.apply(run));
    }
    return values;
  }

  private static String params(Map<String, String> params) {
    StringBuilder text = new StringBuilder();
    params.forEach(
        (name, value) ->
            text.append(text.length() == 0 ? "" : " ").append(name).append('=').append(value));
    return text.length() == 0 ? ReportTable.MISSING : text.toString();
  }

  public String command() {
    return command;
  }

  public String version() {
    return version;
  }

  public String workload() {
    return workload;
  }

  public long seed() {
    return seed;
  }

  public List<ColumnInfo> columns() {
    return columns;
  }

  public List<ReportTable> tables() {
    return tables;
  }

  public List<Charts.BarChart> barCharts() {
    return barCharts;
  }

  public List<Charts.CdfChart> cdfCharts() {
    return cdfCharts;
  }

  public Charts.StackedChart breakdownChart() {
    return breakdownChart;
  }
}
