package org.mmuemu.core.time;

/**
 * Decides which core runs next at each interleaving point of a scenario or explore run, instead of
 * the earliest-next-event rule of a normal run. Installed with {@link Scheduler#setSchedulePolicy};
 * a normal run has none and never consults one.
 *
 * <p>The scheduler keeps time causal whatever the policy picks: a core switched to whose clock is
 * behind every other core's is raised to the latest clock first (see {@link Scheduler}).
 */
@FunctionalInterface
public interface SchedulePolicy {

  /** What kind of point a core stopped at; policies choose at some kinds and not at others. */
  enum PointKind {
    /** A named preemption point, a window Linux leaves open ({@code PreemptionHook}). */
    PREEMPTION,
    /** Before a lock or semaphore is looked at ({@code lock:<name>}). */
    LOCK,
    /** The end of one program step (a user access, one kernel call): point {@code step}. */
    STEP,
    /**
     * Any other interleaving point: a loop iteration, after a barrier wait, before a cross-core
     * check.
     */
    OTHER,
    /**
     * No core is stopped: the last one blocked (point {@code blocked}) or finished its program
     * (point {@code done}).
     */
    NONE
  }

  /**
   * Chooses the next core.
   *
   * @param choice the decision: the stopped core, the point, the cores that can run
   * @return one of {@link Choice#candidates()}
   */
  int choose(Choice choice);

  /**
   * One decision, reused from call to call (read it during {@link #choose}, keep nothing).
   * Candidates are at most 64 cores, as a bit mask.
   */
  final class Choice {
    int stopped = -1;
    String point = "";
    PointKind kind = PointKind.NONE;
    long candidates;
    int earliest = -1;
    int idled = -1;

    /** The core stopped at {@link #point()} (it is a candidate), or -1. */
    public int stopped() {
      return stopped;
    }

    /** The point's name ({@code lock:vmap_area_lock}, {@code zap_pte_range:unlocked}, ...). */
    public String point() {
      return point;
    }

    public PointKind kind() {
      return kind;
    }

    /** Bit {@code c} set when core {@code c} can run now. Never 0. */
    public long candidates() {
      return candidates;
    }

    /** The candidate a normal run would pick: the earliest next event, ties to the lower id. */
    public int earliest() {
      return earliest;
    }

    /**
     * With kind {@link PointKind#NONE}: the core that just blocked ({@code blocked}) or finished
     * its program ({@code done}); else -1.
     */
    public int idled() {
      return idled;
    }

    /** Whether {@code core} can run now. */
    public boolean canRun(int core) {
      return core >= 0 && core < 64 && (candidates & (1L << core)) != 0;
    }
  }
}
