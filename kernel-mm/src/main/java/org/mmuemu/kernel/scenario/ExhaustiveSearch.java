package org.mmuemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.time.SchedulePolicy.Choice;
import org.mmuemu.core.time.SchedulePolicy.PointKind;

/**
 * Bounded exhaustive search, depth first over the tree of choices, without state: each schedule
 * replays the path to the deepest choice point with an untried alternative, takes it, and goes on
 * unpreempted. A preemption is a switch away from a core that could go on; schedules with more than
 * {@code maxPreemptions} are not run (switches at a core that blocked or finished are free).
 *
 * <p>Two choices lead to the same run when they pick the same core, so alternatives are the other
 * candidates only. With {@code reduce}, sleep sets (Godefroid, 1996) prune alternatives that only
 * reorder independent segments of a schedule already run; see {@link SleepSet} and
 * docs/scenarios.md.
 */
final class ExhaustiveSearch {
  /** One choice point on the current path: its alternatives in the order tried, and which is on. */
  private static final class Node {
    final int[] options;
    final int preemptionsBefore;
    final boolean[] preempts;

    /** The cores asleep on arrival here, with the segments they would run. */
    final SleepSet sleep;

    /** Every candidate was asleep: the run from here repeats ones already run. */
    final boolean redundant;

    /** The footprint of the segment after {@code options[0]}, once it ran. */
    Footprint firstFootprint;

    int taken;

    Node(
        int[] options,
        boolean[] preempts,
        int preemptionsBefore,
        SleepSet sleep,
        boolean redundant,
        int taken) {
      this.options = options;
      this.preempts = preempts;
      this.preemptionsBefore = preemptionsBefore;
      this.sleep = sleep;
      this.redundant = redundant;
      this.taken = taken;
    }
  }

  private final int maxPreemptions;
  private final boolean reduce;
  private final List<Node> path = new ArrayList<>();
  private boolean started;
  private long pruned;

  ExhaustiveSearch(int maxPreemptions, boolean reduce) {
    this.maxPreemptions = maxPreemptions;
    this.reduce = reduce;
  }

  /** The policy of the next schedule, or null when every schedule within the bound has run. */
  Schedule.RecordingPolicy next() {
    if (started && !advance()) {
      return null;
    }
    started = true;
    return new Follower();
  }

  /** Adds the choice points the run met beyond the path to the path. */
  void finished(Schedule.RecordingPolicy policy) {
    Follower follower = (Follower) policy;
    follower.segmentEnded();
    path.addAll(follower.met);
  }

  /** Alternatives within the bound not run because sleep sets showed them redundant. */
  long prunedBranches() {
    return pruned;
  }

  /** Moves to the next untried alternative, deepest first; false when none is left. */
  private boolean advance() {
    while (!path.isEmpty()) {
      Node last = path.get(path.size() - 1);
      while (!last.redundant && ++last.taken < last.options.length) {
        if (withinBound(last, last.taken)) {
          if (!last.sleep.asleep(last.options[last.taken])) {
            return true;
          }
          pruned++;
        }
      }
      path.remove(path.size() - 1);
    }
    return false;
  }

  private boolean withinBound(Node node, int option) {
    return node.preemptionsBefore + (node.preempts[option] ? 1 : 0) <= maxPreemptions;
  }

  /** Follows the path, then goes on unpreempted, recording the new choice points. */
  final class Follower extends SearchPolicies.Counting {
    final List<Node> met = new ArrayList<>();
    private final SegmentRecorder recorder = reduce ? new SegmentRecorder() : null;
    private Node running;
    private int runningOption;
    private int preemptions;
    private boolean redundant;

    @Override
    SegmentRecorder segments() {
      return recorder;
    }

    @Override
    void decided(int core) {
      if (recorder != null) {
        recorder.decided(core);
      }
    }

    /** Closes the segment that ran since the last choice point; returns the sleep set after it. */
    SleepSet segmentEnded() {
      if (recorder == null || running == null) {
        return SleepSet.EMPTY;
      }
      SegmentRecorder.Segment segment = recorder.endSegment();
      if (runningOption == 0) {
        running.firstFootprint = segment.own();
      }
      // of the alternatives tried before this one at the node only the core it preempted sleeps
      // (see SleepSet: the preemption bound needs it)
      boolean preempted = running.preempts[runningOption];
      SleepSet after =
          running.sleep.after(
              segment.own(), preempted ? running.options[0] : -1, running.firstFootprint);
      return segment.forced() == null ? after : after.after(segment.forced(), -1, null);
    }

    @Override
    int choose(Choice choice, int index) {
      SleepSet sleep = segmentEnded();
      Node node;
      int option;
      if (index < path.size()) {
        node = path.get(index);
        option = node.taken;
        if (!choice.canRun(node.options[option])) {
          option = 0; // the run diverged from the recorded path: cannot happen if runs are
          // deterministic; go on unpreempted
        }
      } else {
        node = newNode(choice, sleep);
        met.add(node);
        option = node.taken;
      }
      if (node.preempts[option]) {
        preemptions++;
      }
      running = node;
      runningOption = option;
      int core = node.options[option];
      if (recorder != null) {
        recorder.open(core);
      }
      return core;
    }

    private Node newNode(Choice choice, SleepSet sleep) {
      boolean canGoOn = choice.stopped() >= 0;
      int first = canGoOn ? choice.stopped() : choice.earliest();
      int count = Long.bitCount(choice.candidates());
      int[] options = new int[count];
      boolean[] preempts = new boolean[count];
      options[0] = first;
      int i = 1;
      long mask = choice.candidates() & ~(1L << first);
      while (mask != 0) {
        int c = Long.numberOfTrailingZeros(mask);
        mask &= mask - 1;
        options[i] = c;
        preempts[i] = canGoOn && choice.kind() != PointKind.NONE;
        i++;
      }
      // the first option not asleep (the stopped core never is: it ran since any node it slept
      // at); none when every candidate sleeps, and then nothing below here is new
      int taken = 0;
      while (!redundant && taken < count && sleep.asleep(options[taken])) {
        taken++;
      }
      if (taken == count) {
        redundant = true;
      }
      Node node = new Node(options, preempts, preemptions, sleep, redundant, redundant ? 0 : taken);
      for (int skipped = 0; skipped < count; skipped++) {
        if (skipped != node.taken && withinBound(node, skipped) && (redundant || skipped < taken)) {
          pruned++;
        }
      }
      return node;
    }
  }
}
