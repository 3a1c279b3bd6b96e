package org.mmuemu.app.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One table of a comparison report, already formatted: a row per metric, a cell per column, then
 * one ratio cell per column after the first ({@code column / first}). Markdown and HTML render the
 * same tables, so the two reports never disagree.
 *
 * @param title the section heading
 * @param headers "metric", the column labels, then "label / first" per later column
 * @param rows formatted rows
 */
public record ReportTable(String title, List<String> headers, List<Row> rows) {

  /** The headers of the value and ratio columns (all but "metric"). */
  public List<String> valueHeaders() {
    return headers.subList(1, headers.size());
  }

  /** One metric: its name, then formatted cells (values, then ratios). */
  public record Row(String metric, List<String> cells) {}

  /** How a metric's values print. */
  enum Format {
    COUNT,
    DECIMAL1,
    DECIMAL3,
    PERCENT
  }

  static final String MISSING = "—";

  /** Builds a table row by row; a null value is a metric the column does not have. */
  static final class Builder {
    private final String title;
    private final List<String> labels;
    private final List<Row> rows = new ArrayList<>();

    Builder(String title, List<String> labels) {
      this.title = title;
      this.labels = labels;
    }

    Builder row(String metric, Format format, List<Double> values) {
      List<String> cells = new ArrayList<>();
      for (Double value : values) {
        cells.add(format(value, format));
      }
      Double first = values.get(0);
      for (int i = 1; i < values.size(); i++) {
        Double value = values.get(i);
        cells.add(
            first == null || value == null || first == 0
                ? MISSING
                : String.format(Locale.ROOT, "%.2fx", value / first));
      }
      rows.add(new Row(metric, List.copyOf(cells)));
      return this;
    }

    boolean isEmpty() {
      return rows.isEmpty();
    }

    ReportTable build() {
      List<String> headers = new ArrayList<>();
      headers.add("metric");
      headers.addAll(labels);
      for (int i = 1; i < labels.size(); i++) {
        headers.add(labels.get(i) + " / " + labels.get(0));
      }
      return new ReportTable(title, List.copyOf(headers), List.copyOf(rows));
    }
  }

  static String format(Double value, Format format) {
    if (value == null) {
      return MISSING;
    }
    return switch (format) {
      case COUNT -> String.format(Locale.ROOT, "%,d", Math.round(value));
      case DECIMAL1 -> String.format(Locale.ROOT, "%,.1f", value);
      case DECIMAL3 -> String.format(Locale.ROOT, "%,.3f", value);
      case PERCENT -> String.format(Locale.ROOT, "%.2f%%", value);
    };
  }
}
