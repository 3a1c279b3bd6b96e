package org.mmuemu.app;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mmuemu.core.oracle.Violation;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.result.RunResult.LatencySummary;
import org.mmuemu.core.result.RunResult.TlbCounts;
import org.mmuemu.core.text.TerminalText;

/** The short human summary of a run. Every line but the host line is deterministic. */
final class Summary {
  // Hand-overs worth a hint when each is a thread wake-up (about 10 us on a virtual machine).
  private static final long SLOW_HAND_OVERS = 100_000;

  private static final int VIOLATIONS_SHOWN = 3;
  private final RunResult result;
  private final double frequencyGHz;

  Summary(RunResult result, double frequencyGHz) {
    this.result = result;
    this.frequencyGHz = frequencyGHz;
  }

  void print(PrintWriter w, Path resultFile) {
    RunResult.MachineInfo machine = result.machine();
    // The machine name and parameters come from the user's config and flags.
    w.println(
        TerminalText.escape(
            String.format(
                Locale.ROOT,
                "%s on %s (%s, %d cores), seed %d",
                result.workload().name(),
                machine.name(),
                machine.isa(),
                machine.cores(),
                result.seed())));
    if (!result.workload().params().isEmpty()) {
      StringBuilder params = new StringBuilder();
      result
          .workload()
          .params()
          .forEach(
              (k, v) ->
                  params.append(params.length() == 0 ? "" : " ").append(k).append('=').append(v));
      line(w, "params", TerminalText.escape(params.toString()));
    }
    long cycles = result.cycles().total();
    line(
        w,
        "simulated",
        String.format(
            Locale.ROOT,
            "%,d cycles (%.1f us at %.2f GHz), %,d translations",
            cycles,
            cycles / (frequencyGHz * 1000.0),
            frequencyGHz,
            result.translations()));
    for (Map.Entry<String, TlbCounts> level : result.tlb().entrySet()) {
      TlbCounts counts = level.getValue();
      line(
          w,
          "tlb " + level.getKey(),
          String.format(
              Locale.ROOT,
              "%,d lookups, %,d misses (%s hit)",
              counts.lookups(),
              counts.misses(),
              percent(counts.hits(), counts.lookups())));
    }
    RunResult.Walks walks = result.walks();
    line(
        w,
        "walks",
        walks.count() == 0
            ? "none"
            : String.format(
                Locale.ROOT,
                "%,d, %.2f memory refs each, %s start below a walk-cache hit; cycles mean %.1f p50 %d p99 %d max %d",
                walks.count(),
                walks.memoryRefs() / (double) walks.count(),
                percent(walks.pwcHits(), walks.count()),
                walks.cycles().mean(),
                walks.cycles().p50(),
                walks.cycles().p99(),
                walks.cycles().max()));
    for (Map.Entry<String, LatencySummary> op : result.latency().entrySet()) {
      LatencySummary s = op.getValue();
      line(
          w,
          op.getKey(),
          String.format(
              Locale.ROOT,
              "%,d, cycles mean %.1f p50 %d p90 %d p99 %d max %d",
              s.count(),
              s.mean(),
              s.p50(),
              s.p90(),
              s.p99(),
              s.max()));
    }
    RunResult.Maintenance maintenance = result.maintenance();
    if (maintenance.byInstruction().isEmpty()) {
      line(w, "maintenance", "none");
    } else {
      StringBuilder counts = new StringBuilder();
      maintenance
          .byInstruction()
          .forEach(
              (name, count) ->
                  counts
                      .append(counts.length() == 0 ? "" : ", ")
                      .append(name)
                      .append(" ")
                      .append(String.format(Locale.ROOT, "%,d", count)));
      line(
          w,
          "maintenance",
          counts
              + String.format(
                  Locale.ROOT,
                  "; %,d IPIs, %,d full flushes",
                  maintenance.ipis(),
                  maintenance.fullFlushes()));
    }
    if (result.violationCounts().isEmpty()) {
      line(w, "violations", "none");
    } else {
      line(w, "violations", result.violationCounts().toString());
      int shown = 0;
      for (Violation v : result.violations()) {
        if (shown++ == VIOLATIONS_SHOWN) {
          break;
        }
        w.printf(
            Locale.ROOT,
            "    %s core %d cycle %d: %s%n",
            v.kind(),
            v.core(),
            v.cycle(),
            v.detail());
      }
    }
    printWorkloadLog(w);
    if (resultFile != null) {
      line(w, "result", TerminalText.escape(resultFile.toString()));
    }
    RunResult.Host host = result.host();
    if (host != null) {
      line(
          w,
          "host",
          String.format(
              Locale.ROOT,
              "%.2f s, %,.0f translations/s, %,d hand-overs (%s), Java %s, mmuemu %s",
              host.wallSeconds(),
              host.translationsPerSecond(),
              host.handOvers(),
              host.workers(),
              host.java(),
              host.version()));
      if ("platform".equals(host.workers()) && host.handOvers() >= SLOW_HAND_OVERS) {
        line(
            w,
            "hint",
            "each hand-over woke a thread; on Java 21+ it is a continuation switch, far cheaper"
                + " (./mmuemu picks an installed Java 21+; docs/time-model.md, Host time)");
      }
    }
  }

  /** A workload that keeps a kernel-style log (test_vmalloc's summary lines) has it printed. */
  private void printWorkloadLog(PrintWriter w) {
    for (Object section : result.kernel().values()) {
      if (section instanceof Map<?, ?> map && map.get("lines") instanceof List<?> lines) {
        for (Object logLine : lines) {
          w.printf(Locale.ROOT, "    %s%n", logLine);
        }
      }
    }
  }

  private static void line(PrintWriter w, String label, String text) {
    w.printf(Locale.ROOT, "  %-22s %s%n", label, text);
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "-" : String.format(Locale.ROOT, "%.2f%%", 100.0 * part / whole);
  }
}
