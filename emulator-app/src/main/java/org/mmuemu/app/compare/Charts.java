package org.mmuemu.app.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.mmuemu.core.metrics.CycleDistribution.CdfPoint;

/**
 * The geometry of the report's charts, computed here and drawn as inline SVG by the HTML template:
 * horizontal bars per metric, cumulative latency distributions, and stacked bars of the cycle
 * breakdown. Coordinates are SVG user units, printed with one decimal ({@link Locale#ROOT}) so that
 * the same runs give the same bytes.
 */
public final class Charts {
  /** Column colours, by column index (wrapping); readable on white and distinct in print. */
  static final List<String> PALETTE =
      List.of(
          "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2");

  /** Breakdown component colours, in component order; the last is "other". */
  static final List<String> COMPONENT_COLOURS =
      List.of("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#bab0ac");

  static final int WIDTH = 640;
  private static final int LABEL_WIDTH = 170;
  private static final int VALUE_WIDTH = 110;
  private static final int BAR_HEIGHT = 20;
  private static final int BAR_GAP = 8;
  private static final int TOP = 28;
  private static final int PLOT_HEIGHT = 220;
  private static final int PLOT_LEFT = 70;
  private static final int PLOT_RIGHT = 20;

  private Charts() {}

  /** One horizontal bar. */
  public record Bar(
      String label,
      String colour,
      String y,
      String width,
      String textY,
      String valueX,
      String value) {}

  /** A bar chart of one metric, a bar per column. */
  public record BarChart(
      String id, String title, int height, int labelX, int barX, List<Bar> bars) {}

  /** One line of a CDF chart: SVG polyline points. */
  public record Series(String label, String colour, String points, String legendY) {}

  /** An axis tick: position and text. */
  public record Tick(String position, String text) {}

  /** Cumulative distributions of one operation, a line per column. */
  public record CdfChart(
      String id,
      String title,
      int height,
      int plotLeft,
      int plotRight,
      int plotTop,
      int plotBottom,
      List<Tick> xTicks,
      List<Tick> yTicks,
      List<Series> series) {}

  /** A metric against a swept parameter, a line per combination of the other axes. */
  public record LineChart(
      String id,
      String title,
      String xLabel,
      int height,
      int plotLeft,
      int plotRight,
      int plotTop,
      int plotBottom,
      List<Tick> xTicks,
      List<Tick> yTicks,
      List<Series> series) {}

  /**
   * @param seriesPoints per series, its (x, y) points in increasing x
   */
  static LineChart lines(
      String id,
      String title,
      String xLabel,
      List<String> seriesLabels,
      List<List<double[]>> seriesPoints) {
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double maxY = 0;
    for (List<double[]> points : seriesPoints) {
      for (double[] point : points) {
        minX = Math.min(minX, point[0]);
        maxX = Math.max(maxX, point[0]);
        maxY = Math.max(maxY, point[1]);
      }
    }
    if (maxX <= minX) {
      maxX = minX + 1;
    }
    if (maxY <= 0) {
      maxY = 1;
    }
    int top = TOP;
    int bottom = top + PLOT_HEIGHT;
    int left = PLOT_LEFT + 20;
    int right = WIDTH - PLOT_RIGHT;
    List<Series> series = new ArrayList<>();
    for (int i = 0; i < seriesLabels.size(); i++) {
      StringBuilder points = new StringBuilder();
      for (double[] point : seriesPoints.get(i)) {
        double x = left + (point[0] - minX) / (maxX - minX) * (right - left);
        double y = bottom - point[1] / maxY * (bottom - top);
        points.append(points.length() == 0 ? "" : " ").append(num(x)).append(',').append(num(y));
      }
      series.add(
          new Series(seriesLabels.get(i), colour(i), points.toString(), num(bottom + 48 + i * 16)));
    }
    List<Tick> xTicks = new ArrayList<>();
    for (int t = 0; t <= 4; t++) {
      xTicks.add(
          new Tick(num(left + t * (right - left) / 4.0), compact(minX + (maxX - minX) * t / 4.0)));
    }
    List<Tick> yTicks = new ArrayList<>();
    for (int t = 0; t <= 4; t++) {
      yTicks.add(new Tick(num(bottom - t * (bottom - top) / 4.0), compact(maxY * t / 4.0)));
    }
    return new LineChart(
        id,
        title,
        xLabel,
        bottom + 48 + seriesLabels.size() * 16,
        left,
        right,
        top,
        bottom,
        xTicks,
        yTicks,
        series);
  }

  private static String compact(double value) {
    return value == Math.rint(value)
        ? String.format(Locale.ROOT, "%,d", (long) value)
        : String.format(Locale.ROOT, "%,.2f", value);
  }

  /** One segment of a stacked bar. */
  public record Segment(String name, String colour, String x, String width, String title) {}

  /** One stacked bar: a column's cycles per operation by component. */
  public record StackedBar(
      String label, String y, String textY, String valueX, String total, List<Segment> segments) {}

  /** A legend entry. */
  public record Legend(String name, String colour, String x) {}

  /** The cycle breakdown: a stacked bar per column. */
  public record StackedChart(
      String id,
      String title,
      int height,
      int labelX,
      int barX,
      int legendY,
      List<StackedBar> bars,
      List<Legend> legend) {}

  static BarChart bars(
      String id,
      String title,
      List<String> labels,
      List<Double> values,
      ReportTable.Format format) {
    double max = 0;
    for (Double value : values) {
      if (value != null) {
        max = Math.max(max, value);
      }
    }
    int plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    List<Bar> bars = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      Double value = values.get(i);
      double width = value == null || max == 0 ? 0 : value / max * plotWidth;
      double y = TOP + i * (BAR_HEIGHT + BAR_GAP);
      bars.add(
          new Bar(
              labels.get(i),
              colour(i),
              num(y),
              num(width),
              num(y + BAR_HEIGHT * 0.7),
              num(LABEL_WIDTH + width + 6),
              ReportTable.format(value, format)));
    }
    int height = TOP + labels.size() * (BAR_HEIGHT + BAR_GAP) + 4;
    return new BarChart(id, title, height, LABEL_WIDTH - 6, LABEL_WIDTH, bars);
  }

  static CdfChart cdf(
      String id, String title, List<String> labels, List<List<CdfPoint>> distributions) {
    long maxValue = 1;
    for (List<CdfPoint> points : distributions) {
      if (!points.isEmpty()) {
        maxValue = Math.max(maxValue, points.get(points.size() - 1).valueCycles());
      }
    }
    int top = TOP;
    int bottom = top + PLOT_HEIGHT;
    int left = PLOT_LEFT;
    int right = WIDTH - PLOT_RIGHT;
    List<Series> series = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      StringBuilder points = new StringBuilder();
      double previousY = bottom;
      for (CdfPoint point : distributions.get(i)) {
        double x = left + (double) point.valueCycles() / maxValue * (right - left);
        double y = bottom - point.fraction() * (bottom - top);
        // A step: the curve holds its level until the next bucket, then rises.
        points
            .append(points.length() == 0 ? "" : " ")
            .append(num(x))
            .append(',')
            .append(num(previousY))
            .append(' ')
            .append(num(x))
            .append(',')
            .append(num(y));
        previousY = y;
      }
      series.add(
          new Series(labels.get(i), colour(i), points.toString(), num(bottom + 48 + i * 16)));
    }
    List<Tick> xTicks = new ArrayList<>();
    for (int t = 0; t <= 4; t++) {
      xTicks.add(
          new Tick(
              num(left + t * (right - left) / 4.0),
              String.format(Locale.ROOT, "%,d", Math.round(maxValue * t / 4.0))));
    }
    List<Tick> yTicks = new ArrayList<>();
    for (int t = 0; t <= 4; t++) {
      yTicks.add(
          new Tick(
              num(bottom - t * (bottom - top) / 4.0), String.format(Locale.ROOT, "%.2f", t / 4.0)));
    }
    int height = bottom + 48 + labels.size() * 16;
    return new CdfChart(id, title, height, left, right, top, bottom, xTicks, yTicks, series);
  }

  /**
   * @param components component names in order
   * @param perColumn per column, the value of each component (same order)
   */
  static StackedChart stacked(
      String id,
      String title,
      List<String> labels,
      List<String> components,
      List<List<Double>> perColumn) {
    double max = 0;
    for (List<Double> values : perColumn) {
      max = Math.max(max, values.stream().mapToDouble(Double::doubleValue).sum());
    }
    int plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    List<StackedBar> bars = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      double y = TOP + i * (BAR_HEIGHT + BAR_GAP);
      double x = LABEL_WIDTH;
      double total = 0;
      List<Segment> segments = new ArrayList<>();
      for (int c = 0; c < components.size(); c++) {
        double value = perColumn.get(i).get(c);
        total += value;
        double width = max == 0 ? 0 : value / max * plotWidth;
        segments.add(
            new Segment(
                components.get(c),
                COMPONENT_COLOURS.get(c % COMPONENT_COLOURS.size()),
                num(x),
                num(width),
                components.get(c) + ": " + ReportTable.format(value, ReportTable.Format.DECIMAL1)));
        x += width;
      }
      bars.add(
          new StackedBar(
              labels.get(i),
              num(y),
              num(y + BAR_HEIGHT * 0.7),
              num(x + 6),
              ReportTable.format(total, ReportTable.Format.DECIMAL1),
              segments));
    }
    int legendY = TOP + labels.size() * (BAR_HEIGHT + BAR_GAP) + 14;
    List<Legend> legend = new ArrayList<>();
    double legendX = 10;
    for (int c = 0; c < components.size(); c++) {
      legend.add(
          new Legend(
              components.get(c),
              COMPONENT_COLOURS.get(c % COMPONENT_COLOURS.size()),
              num(legendX)));
      // About 7 units per character of 12px text, plus the swatch and a gap.
      legendX += 24 + 7 * components.get(c).length();
    }
    return new StackedChart(
        id, title, legendY + 16, LABEL_WIDTH - 6, LABEL_WIDTH, legendY, bars, legend);
  }

  private static String colour(int column) {
    return PALETTE.get(column % PALETTE.size());
  }

  static String num(double value) {
    return String.format(Locale.ROOT, "%.1f", value);
  }
}
