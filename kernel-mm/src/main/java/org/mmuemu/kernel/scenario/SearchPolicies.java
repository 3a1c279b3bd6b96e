package org.mmuemu.kernel.scenario;

import java.util.SplittableRandom;
import org.mmuemu.core.time.SchedulePolicy.Choice;
import org.mmuemu.core.time.SchedulePolicy.PointKind;

/** The explorer's schedule policies. */
final class SearchPolicies {
  private SearchPolicies() {}

  /**
   * A recording policy that chooses only at the search's choice points (preemption points, lock
   * acquires, step ends, after a core blocked or finished) and lets the stopped core go on at the
   * others; it counts the choice points it met.
   */
  abstract static class Counting extends Schedule.RecordingPolicy {
    private int choicePoints;

    @Override
    final int pick(Choice choice) {
      if (choice.kind() == PointKind.OTHER && choice.stopped() >= 0) {
        return choice.stopped();
      }
      return choose(choice, choicePoints++);
    }

    /** Chooses at the {@code index}-th choice point of the run. */
    abstract int choose(Choice choice, int index);

    int choicePoints() {
      return choicePoints;
    }
  }

  /**
   * The core with the earliest next event runs at every choice point, as in a normal run (up to the
   * points where the strategies do not choose, at which the stopped core goes on).
   */
  static final class Earliest extends Counting {
    @Override
    int choose(Choice choice, int index) {
      return choice.earliest();
    }
  }

  /** A uniformly random candidate at every choice point. */
  static final class Random extends Counting {
    private final SplittableRandom random;

    Random(long seed) {
      this.random = new SplittableRandom(seed);
    }

    @Override
    int choose(Choice choice, int index) {
      return nth(choice.candidates(), random.nextInt(Long.bitCount(choice.candidates())));
    }
  }

  /**
   * PCT: each core gets a random priority above {@code depth}; the highest-priority candidate runs;
   * at each of {@code depth - 1} change points (random choice-point indices below {@code k}) the
   * core that stopped there drops to priority {@code depth - j} for the j-th change point.
   */
  static final class Pct extends Counting {
    private final long[] priority = new long[64];
    private final int[] changeAt;

    Pct(long seed, int depth, int k) {
      SplittableRandom random = new SplittableRandom(seed);
      for (int core = 0; core < priority.length; core++) {
        priority[core] = depth + 1 + random.nextLong(1L << 40);
      }
      changeAt = new int[Math.max(0, depth - 1)];
      for (int j = 0; j < changeAt.length; j++) {
        changeAt[j] = random.nextInt(Math.max(1, k));
      }
    }

    @Override
    int choose(Choice choice, int index) {
      for (int j = 0; j < changeAt.length; j++) {
        if (changeAt[j] == index && choice.stopped() >= 0) {
          priority[choice.stopped()] = changeAt.length - j;
        }
      }
      int best = -1;
      long mask = choice.candidates();
      while (mask != 0) {
        int core = Long.numberOfTrailingZeros(mask);
        mask &= mask - 1;
        if (best < 0 || priority[core] > priority[best]) {
          best = core;
        }
      }
      return best;
    }
  }

  /** The {@code n}-th set bit of {@code mask}, counting from 0. */
  static int nth(long mask, int n) {
    long rest = mask;
    for (int i = 0; i < n; i++) {
      rest &= rest - 1;
    }
    return Long.numberOfTrailingZeros(rest);
  }
}
