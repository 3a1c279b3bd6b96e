package org.mmuemu.core.metrics;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * A distribution of simulated cycles: an HdrHistogram (three significant digits) for the
 * percentiles, plus the exact count, sum and maximum, so the mean and the max in results are exact
 * rather than rounded to the histogram's buckets.
 *
 * <p>Confined to the simulation thread; {@link #record} allocates nothing unless the histogram has
 * to grow its range.
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

  /**
   * One point of the cumulative distribution: the share of recorded values at or below {@code
   * valueCycles}.
   *
   * @param valueCycles the highest value of one histogram bucket (at most the exact max)
   * @param fraction recorded values at or below it, over all of them (0 to 1]
   */
  public record CdfPoint(long valueCycles, double fraction) {}

  /**
   * Returns the cumulative distribution as at most {@code maxPoints} points in increasing value,
   * ending at the exact max with fraction 1; empty when nothing was recorded. A pure function of
   * the recorded values (the histogram's buckets, three significant digits), so the same run gives
   * the same points. Allocates; for reports after a run.
   *
   * @param maxPoints at least 2; buckets are thinned evenly (keeping the last) beyond it
   */
  public List<CdfPoint> cdf(int maxPoints) {
    if (maxPoints < 2) {
      throw new IllegalArgumentException("maxPoints: " + maxPoints + " (expected: >= 2)");
    }
    List<CdfPoint> buckets = new ArrayList<>();
    long cumulative = 0;
    for (HistogramIterationValue bucket : histogram.recordedValues()) {
      cumulative += bucket.getCountAtValueIteratedTo();
      long value = Math.min(max, histogram.highestEquivalentValue(bucket.getValueIteratedTo()));
      buckets.add(new CdfPoint(value, (double) cumulative / count));
    }
    if (buckets.size() <= maxPoints) {
      return buckets;
    }
    List<CdfPoint> thinned = new ArrayList<>(maxPoints);
    for (int i = 0; i < maxPoints; i++) {
      thinned.add(buckets.get((int) ((long) i * (buckets.size() - 1) / (maxPoints - 1))));
    }
    return thinned;
  }

  /** The underlying histogram (for interval snapshots and logs). */
  public Histogram histogram() {
    return histogram;
  }
}
