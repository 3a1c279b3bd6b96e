package org.mmuemu.kernel.scenario;

import java.util.Locale;
import java.util.function.BooleanSupplier;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * Searches a scenario's interleavings for a violation, ignoring its scripted order: each schedule
 * is one full run of the scenario under a search strategy's {@link
 * org.mmuemu.core.time.SchedulePolicy}, recorded so that a violating one can be replayed exactly
 * ({@link Schedule}).
 *
 * <p>Strategies choose at the points where Linux can be interleaved: named preemption points, lock
 * acquires, the end of each program step, and wherever a core just blocked or finished; at the
 * other interleaving points (loop iterations, barrier waits, checks) the running core goes on.
 *
 * <ul>
 *   <li>{@code random}: a uniformly random runnable core at every such point, seeded per schedule;
 *   <li>{@code pct}: probabilistic concurrency testing (Burckhardt et al., 2010): random distinct
 *       priorities per core, the highest-priority runnable core runs, and at {@code depth - 1}
 *       random change points the running core drops below every other; a bug of depth {@code d} is
 *       found with probability at least 1/(n k^(d-1)) per schedule (n cores, k decisions);
 *   <li>{@code exhaustive}: every schedule with at most {@code depth} preemptions (switching away
 *       from a core that could go on), depth first, the unpreempted schedule first; with reduction,
 *       none that only reorders independent segments of one already run (sleep sets).
 * </ul>
 *
 * <p>The first schedule of {@code random} and {@code pct} lets the earliest core run at every
 * choice point, as a normal run does; the first of {@code exhaustive} preempts nothing.
 * Deterministic: the same scenario, machine, strategy, seed and budget give the same schedules.
 */
public final class Explorer {
  /** The search strategies. */
  public enum Strategy {
    RANDOM,
    PCT,
    EXHAUSTIVE;

    /** The strategy's name on the command line. */
    public String cliName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * What to search: the strategy, how many schedules at most, the seed, the depth, and whether
   * {@code exhaustive} prunes with sleep sets (ignored by the other strategies).
   */
  public record Settings(
      Strategy strategy, long schedules, long seed, int depth, boolean reduction) {}

  /** Runs the scenario once under a workload's policy and returns the result. */
  @FunctionalInterface
  public interface Trial {
    RunResult run(ScenarioWorkload workload) throws WorkloadException;
  }

  /** Told after every schedule (for progress output). */
  @FunctionalInterface
  public interface Progress {
    void ran(long schedules);
  }

  /**
   * The search's end.
   *
   * @param found the first violating schedule, or null
   * @param result that schedule's result, or null
   * @param schedulesRun schedules run, the violating one included
   * @param exhausted whether the exhaustive strategy ran out of schedules before the budget did
   * @param prunedBranches alternatives within the bound the exhaustive strategy's sleep sets showed
   *     redundant (each the root of a subtree of schedules not run); 0 for the other strategies
   */
  public record Outcome(
      Schedule found,
      RunResult result,
      long schedulesRun,
      boolean exhausted,
      long prunedBranches,
      boolean stopped) {}

  private Explorer() {}

  /**
   * Searches until a violation is found, {@code settings.schedules()} schedules have run, or {@code
   * stopRequested} says so before the next schedule (Ctrl-C; the outcome is then {@code stopped}).
   */
  public static Outcome explore(
      Scenario scenario,
      Settings settings,
      Trial trial,
      Progress progress,
      BooleanSupplier stopRequested)
      throws WorkloadException {
    ExhaustiveSearch search =
        settings.strategy() == Strategy.EXHAUSTIVE
            ? new ExhaustiveSearch(settings.depth(), settings.reduction())
            : null;
    int decisionsSeen = 1;
    for (long n = 0; n < settings.schedules(); n++) {
      if (stopRequested.getAsBoolean()) {
        return new Outcome(null, null, n, false, pruned(search), true);
      }
      Schedule.RecordingPolicy policy;
      if (search != null) {
        policy = search.next();
        if (policy == null) {
          return new Outcome(null, null, n, true, search.prunedBranches(), false);
        }
      } else if (n == 0) {
        policy = new SearchPolicies.Earliest();
      } else if (settings.strategy() == Strategy.PCT) {
        policy =
            new SearchPolicies.Pct(
                settings.seed() * 1_000_003L + n, settings.depth(), decisionsSeen);
      } else {
        policy = new SearchPolicies.Random(settings.seed() * 1_000_003L + n);
      }
      RunResult result = trial.run(new ScenarioWorkload(scenario, policy));
      progress.ran(n + 1);
      decisionsSeen = Math.max(decisionsSeen, ((SearchPolicies.Counting) policy).choicePoints());
      if (search != null) {
        search.finished(policy);
      }
      if (result.violationTotal() > 0) {
        return new Outcome(policy.schedule(), result, n + 1, false, pruned(search), false);
      }
    }
    return new Outcome(null, null, settings.schedules(), false, pruned(search), false);
  }

  private static long pruned(ExhaustiveSearch search) {
    return search == null ? 0 : search.prunedBranches();
  }
}
