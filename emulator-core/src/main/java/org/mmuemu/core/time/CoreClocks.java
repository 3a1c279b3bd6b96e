package org.mmuemu.core.time;

/** The per-core clocks of a machine, in cycles. Confined to the simulation thread. */
public final class CoreClocks {
  private final long[] cycles;

  public CoreClocks(int cores) {
    this.cycles = new long[cores];
  }

  public int cores() {
    return cycles.length;
  }

  public long now(int core) {
    return cycles[core];
  }

  /** Charges {@code delta} cycles (non-negative) to {@code core}. */
  public void advance(int core, long delta) {
    if (delta < 0) {
      throw new IllegalArgumentException("delta: " + delta + " (expected: >= 0)");
    }
    cycles[core] += delta;
  }

  /** Moves {@code core}'s clock forward to {@code cycle} if it is behind; never back. */
  public void waitUntil(int core, long cycle) {
    if (cycles[core] < cycle) {
      cycles[core] = cycle;
    }
  }

  /** A copy of every clock. */
  public long[] snapshot() {
    return cycles.clone();
  }

  /** The largest clock: the run's makespan. */
  public long max() {
    long max = 0;
    for (long c : cycles) {
      max = Math.max(max, c);
    }
    return max;
  }
}
