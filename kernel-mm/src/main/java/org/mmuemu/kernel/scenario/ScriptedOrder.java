package org.mmuemu.kernel.scenario;

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
    while (index < order.size()
        && order.get(index).until().equals("end")
        && choice.kind() == PointKind.NONE
        && choice.point().equals("done")
        && choice.idled() == order.get(index).cpu()) {
      index++;
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

  /** Whether every entry of the order was reached. */
  boolean finished() {
    return index >= order.size();
  }
}
