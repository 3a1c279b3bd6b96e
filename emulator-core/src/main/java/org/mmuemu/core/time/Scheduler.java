package org.mmuemu.core.time;

import java.util.function.BooleanSupplier;

/**
 * Runs the cores' programs deterministically: the core with the smallest clock always takes the
 * next step, ties going to the lower core id. When a core acts at time t every other live core is
 * at t or later, so cross-core effects are applied in simulated-time order.
 *
 * <p>A quantum of {@code q > 0} cycles lets the chosen core keep stepping while its clock is at
 * most q past the next-smallest clock: fewer scheduling decisions, still deterministic, ordering
 * exact only to within q cycles. Quantum 0 is exact ordering.
 *
 * <p>Confined to the calling thread.
 */
public final class Scheduler {
  private static final int CANCEL_CHECK_STEPS = 4096;
  private final CoreClocks clocks;
  private final long quantumCycles;

  /**
   * @param quantumCycles how far a core may run ahead of the next one; 0 or more
   */
  public Scheduler(CoreClocks clocks, long quantumCycles) {
    if (quantumCycles < 0) {
      throw new IllegalArgumentException("quantumCycles: " + quantumCycles + " (expected: >= 0)");
    }
    this.clocks = clocks;
    this.quantumCycles = quantumCycles;
  }

  /**
   * Runs until every program is done or {@code cancelled} answers true.
   *
   * @param programs one per core; a null entry is a core with nothing to run
   * @param cancelled polled every few thousand steps
   * @return the number of steps taken
   */
  public long run(CoreProgram[] programs, BooleanSupplier cancelled) {
    int cores = programs.length;
    boolean[] live = new boolean[cores];
    int liveCount = 0;
    for (int core = 0; core < cores; core++) {
      live[core] = programs[core] != null;
      liveCount += live[core] ? 1 : 0;
    }
    long steps = 0;
    while (liveCount > 0) {
      int chosen = -1;
      int runnerUp = -1;
      for (int core = 0; core < cores; core++) {
        if (!live[core]) {
          continue;
        }
        if (chosen < 0 || clocks.now(core) < clocks.now(chosen)) {
          runnerUp = chosen;
          chosen = core;
        } else if (runnerUp < 0 || clocks.now(core) < clocks.now(runnerUp)) {
          runnerUp = core;
        }
      }
      long limit = runnerUp < 0 ? Long.MAX_VALUE : clocks.now(runnerUp) + quantumCycles;
      do {
        boolean more = programs[chosen].step(chosen);
        steps++;
        if (steps % CANCEL_CHECK_STEPS == 0 && cancelled.getAsBoolean()) {
          return steps;
        }
        if (!more) {
          live[chosen] = false;
          liveCount--;
          break;
        }
      } while (quantumCycles > 0 && clocks.now(chosen) <= limit);
    }
    return steps;
  }
}
