package org.mmuemu.core.metrics;

import org.HdrHistogram.Histogram;

/**
 * A distribution of simulated cycles: an HdrHistogram (three significant digits) for the
 * percentiles, plus the exact count, sum and maximum, so the mean and the max in results are
 * exact rather than rounded to the histogram's buckets.
 *
 * <p>Confined to the simulation thread; {@link #record} allocates nothing unless the histogram
 * has to grow its range.
 */
public final class CycleDistribution {
  private final Histogram histogram;
  private long count;
  private long sum;
  private long max;

  public CycleDistribution() {
    histogram = new Histogram(3);
    histogram.setAutoResize(true);
  }

  /** Records one value; negative values count as 0. */
  public void record(long cycles) {
    long value = Math.max(0, cycles);
    histogram.recordValue(value);
    count++;
    sum += value;
    if (value > max) {
      max = value;
    }
  }

  public long count() {
    return count;
  }

  public long sum() {
    return sum;
  }

  /** The exact largest value recorded. */
  public long max() {
    return max;
  }

  /** The exact mean, 0 when empty. */
  public double mean() {
    return count == 0 ? 0 : (double) sum / count;
  }

  /** The value at {@code percentile} (0 to 100), to three significant digits. */
  public long percentile(double percentile) {
    return count == 0 ? 0 : Math.min(max, histogram.getValueAtPercentile(percentile));
  }

  /** The underlying histogram (for interval snapshots and logs). */
  public Histogram histogram() {
    return histogram;
  }
}
