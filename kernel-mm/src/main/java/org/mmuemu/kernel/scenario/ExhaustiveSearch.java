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
 * candidates only. No partial-order reduction is applied (see docs/scenarios.md): every
 * interleaving within the bound is run, including ones equivalent to another by commuting
 * independent steps.
 */
final class ExhaustiveSearch {
  /** One choice point on the current path: its alternatives in the order tried, and which is on. */
  private static final class Node {
    final int[] options;
    final int preemptionsBefore;
    final boolean[] preempts;
    int taken;

    Node(int[] options, boolean[] preempts, int preemptionsBefore) {
      this.options = options;
      this.preempts = preempts;
      this.preemptionsBefore = preemptionsBefore;
    }
  }

  private final int maxPreemptions;
  private final List<Node> path = new ArrayList<>();
  private boolean started;

  ExhaustiveSearch(int maxPreemptions) {
    this.maxPreemptions = maxPreemptions;
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
    path.addAll(((Follower) policy).met);
  }

  /** Moves to the next untried alternative, deepest first; false when none is left. */
  private boolean advance() {
    while (!path.isEmpty()) {
      Node last = path.get(path.size() - 1);
      while (++last.taken < last.options.length) {
        int used = last.preemptionsBefore + (last.preempts[last.taken] ? 1 : 0);
        if (used <= maxPreemptions) {
          return true;
        }
      }
      path.remove(path.size() - 1);
    }
    return false;
  }

  /** Follows the path, then goes on unpreempted, recording the new choice points. */
  final class Follower extends SearchPolicies.Counting {
    final List<Node> met = new ArrayList<>();
    private int preemptions;

    @Override
    int choose(Choice choice, int index) {
      int core;
      Node node;
      if (index < path.size()) {
        node = path.get(index);
        core = node.options[node.taken];
        if (!choice.canRun(core)) {
          core = node.options[0]; // the run diverged from the recorded path: cannot happen if
          // runs are deterministic; go on unpreempted
        }
      } else {
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
        node = new Node(options, preempts, preemptions);
        met.add(node);
        core = first;
      }
      if (node.preempts[node.taken] && index < path.size()) {
        preemptions++;
      }
      return core;
    }
  }
}
