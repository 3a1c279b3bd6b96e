package org.mmuemu.kernel.scenario;

/**
 * A sleep set (Godefroid, 1996): the cores whose next segment, from the current choice point, runs
 * in a schedule the search has covered already, each with that segment's {@link Footprint}.
 * Choosing a sleeping core would only reorder independent segments of a covered schedule, so the
 * search never does; a core wakes when a segment dependent with its own runs.
 *
 * <p>Only a preempted core is put to sleep: at a choice point where the stopped core could go on,
 * its alternatives (each a preemption) get that core in their sleep sets, after its own subtree
 * ran. An alternative tried before another at a point where no core was stopped does not sleep in
 * the other's subtree: the preemption bound makes that unsound. Running its segment first could
 * cost a preemption that the pruned schedule did not pay (it ran that core's next segment right
 * after, for free), so the covering schedule could lie beyond the bound. A preempted core's
 * covering schedule runs it on at the point it was preempted, which saves the preemption the pruned
 * one paid there and costs at most one elsewhere.
 *
 * <p>Immutable.
 */
final class SleepSet {
  static final SleepSet EMPTY = new SleepSet(new Footprint[0]);

  private final Footprint[] byCore;

  private SleepSet(Footprint[] byCore) {
    this.byCore = byCore;
  }

  boolean asleep(int core) {
    return core < byCore.length && byCore[core] != null;
  }

  /**
   * The sleep set at the next choice point, after a segment with footprint {@code segment} ran from
   * this one: the sleepers independent of it, and {@code preempted} (a core, or -1) whose next
   * segment, run from this point in a covered schedule, had footprint {@code preemptedSegment},
   * when independent of it.
   */
  SleepSet after(Footprint segment, int preempted, Footprint preemptedSegment) {
    Footprint[] next = new Footprint[64];
    boolean any = false;
    for (int core = 0; core < byCore.length; core++) {
      if (byCore[core] != null && byCore[core].independent(segment)) {
        next[core] = byCore[core];
        any = true;
      }
    }
    if (preempted >= 0 && preemptedSegment != null && preemptedSegment.independent(segment)) {
      next[preempted] = preemptedSegment;
      any = true;
    }
    return any ? new SleepSet(next) : EMPTY;
  }
}
