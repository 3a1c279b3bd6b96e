package org.mmuemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The story of one scenario run, in the order things happened on the host (which is simulated-time
 * order under a schedule policy): which CPU did what at which cycle, and where the schedule
 * switched CPUs. Bounded: after {@link #MAX_LINES} lines only a count is kept.
 */
public final class Narrative {
  static final int MAX_LINES = 2000;

  private final List<String> lines = new ArrayList<>();
  private long dropped;

  void add(long cycle, int cpu, String text) {
    if (lines.size() >= MAX_LINES) {
      dropped++;
      return;
    }
    lines.add(String.format(Locale.ROOT, "%,12d  cpu%d  %s", cycle, cpu, text));
  }

  /** The lines, each {@code <cycle> cpu<N> <what>}; a last line counts any left out. */
  public List<String> lines() {
    if (dropped == 0) {
      return List.copyOf(lines);
    }
    List<String> all = new ArrayList<>(lines);
    all.add("(" + dropped + " more lines left out)");
    return all;
  }
}
