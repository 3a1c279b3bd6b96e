package org.mmuemu.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.metrics.CycleDistribution.CdfPoint;

/** The cumulative distribution reports draw: increasing, ending at the exact max with 1. */
final class CycleDistributionTest {

  @Test
  void cdf_fewBuckets_keepsEveryBucket() {
    CycleDistribution distribution = new CycleDistribution();
    distribution.record(10);
    distribution.record(10);
    distribution.record(30);
    distribution.record(1000);
    assertThat(distribution.cdf(10))
        .containsExactly(new CdfPoint(10, 0.5), new CdfPoint(30, 0.75), new CdfPoint(1000, 1.0));
  }

  @Test
  void cdf_manyBuckets_thinsEvenlyAndEndsAtTheMax() {
    CycleDistribution distribution = new CycleDistribution();
    for (int value = 1; value <= 5000; value++) {
      distribution.record(value);
    }
    List<CdfPoint> points = distribution.cdf(50);
    assertThat(points).hasSize(50);
    assertThat(points.get(points.size() - 1)).isEqualTo(new CdfPoint(5000, 1.0));
    for (int i = 1; i < points.size(); i++) {
      assertThat(points.get(i).valueCycles()).isGreaterThan(points.get(i - 1).valueCycles());
      assertThat(points.get(i).fraction()).isGreaterThan(points.get(i - 1).fraction());
    }
  }

  @Test
  void cdf_empty_isEmptyAndTooFewPointsIsRejected() {
    assertThat(new CycleDistribution().cdf(2)).isEmpty();
    assertThatThrownBy(() -> new CycleDistribution().cdf(1)).hasMessageContaining("maxPoints: 1");
  }
}
