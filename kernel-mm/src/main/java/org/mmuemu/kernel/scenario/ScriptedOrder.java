package org.mmuemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.time.SchedulePolicy;

/**
 * A scenario's scripted {@code order}: each entry runs one CPU until it reaches a named point (for
 * the n-th time), the end of its current step ({@code step}) or the end of its program ({@code
 * end}); then the next entry's CPU runs. When the named CPU cannot run (it waits for a lock another
 * CPU holds) the earliest core runs until it can; after the last entry the earliest core runs, as
 * in a normal run.
 */
final class ScriptedOrder implements SchedulePolicy {
  private final List<Scenario.OrderStep> order;
  private int index;
  private int seen;
  private final List<String> unreached = new ArrayList<>();

  ScriptedOrder(List<Scenario.OrderStep> order) {
    this.order = order;
  }

  @Override
  public int choose(Choice choice) {
    if (index < order.size() && reached(order.get(index), choice)) {
      if (++seen >= order.get(index).occurrence()) {
        index++;
        seen = 0;
      }
    }
    // An entry whose CPU finished its program before reaching the point can never be reached.
    while (index < order.size()
        && choice.kind() == PointKind.NONE
        && choice.point().equals("done")
        && choice.idled() == order.get(index).cpu()) {
      Scenario.OrderStep step = order.get(index);
      if (!step.until().equals("end") && !step.until().equals("step")) {
        unreached.add(
            "order /order/"
                + index
                + " (cpu "
                + step.cpu()
                + " until "
                + step.until()
                + "): never reached,"
                + " cpu "
                + step.cpu()
                + " finished its program first");
      }
      index++;
      seen = 0;
    }
    if (index < order.size() && choice.canRun(order.get(index).cpu())) {
      return order.get(index).cpu();
    }
    return choice.earliest();
  }

  private static boolean reached(Scenario.OrderStep step, Choice choice) {
    boolean done =
        choice.kind() == PointKind.NONE
            && choice.point().equals("done")
            && choice.idled() == step.cpu();
    switch (step.until()) {
      case "end":
        return done;
      case "step":
        return done || (choice.stopped() == step.cpu() && choice.kind() == PointKind.STEP);
      default:
        return choice.stopped() == step.cpu() && choice.point().equals(step.until());
    }
  }

  /** The order's entries that were never reached, each described; empty when all were. */
  List<String> unreached() {
    List<String> all = new ArrayList<>(unreached);
    for (int i = index; i < order.size(); i++) {
      Scenario.OrderStep step = order.get(i);
      if (step.until().equals("end") || step.until().equals("step")) {
        continue; // every program ends, though the run may end before the order says so
      }
      all.add(
          "order /order/"
              + i
              + " (cpu "
              + step.cpu()
              + " until "
              + step.until()
              + "): never reached");
    }
    return all;
  }
}
