package org.mmuemu.core.machine;

import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.time.InterruptSource;
import org.mmuemu.core.time.Scheduler;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceBus;

/**
 * Inter-processor interrupts of one machine: sending, delivery to each target at its time, and
 * acknowledgement, priced by the ISA's {@link InterruptCosts}.
 *
 * <p>A sent IPI waits in its target's queue until the delivery time ({@code send +
 * deliveryCycles}). The scheduler runs the handler on the target when the target reaches that time:
 * at its next interleaving point or step boundary when it is running (interrupting the kernel call
 * in progress there), at the delivery time itself when it is waiting or idle. The target's TLB and
 * everything else the handler changes change then. The acknowledgement arrives {@code ackCycles}
 * after the handler ends; an initiator that waits blocks until its last acknowledgement.
 *
 * <p>{@code // MODEL:} a running core takes an interrupt at the first interleaving point at or
 * after its delivery: the stretch of a kernel call between two points acts as the core's
 * interrupts-off window (the run's {@code ipi.delivery_lateness} latencies measure it).
 *
 * <p>Outside a scheduled run (set-up, tests driving calls by hand) nothing else runs, so each
 * target takes its interrupt at once, its clock moved to the delivery time as an idle core's would
 * be.
 *
 * <p>Confined to the baton holder; sending and delivering allocate nothing once the queues have
 * grown to the run's largest burst.
 */
final class Interrupts implements InterruptSource {
  /** The name under which delivery lateness is recorded in the run's latencies. */
  static final String LATENESS = "ipi.delivery_lateness";

  private final InterruptCosts costs;
  private final CoreClocks clocks;
  private final RunStats stats;
  private final TraceBus traceBus;
  private final CoreActivity activity;
  private final TlbMaintenance maintenance;
  private final Scheduler scheduler;
  private final PendingIpis[] queues;
  private final int[] unacknowledged;
  private final long[] latestAckCycle;
  private final boolean[] waitingForAcks;

  /** The IPIs on their way to one core, in send order. */
  private static final class PendingIpis {
    long[] deliveryCycle = new long[8];
    int[] initiator = new int[8];
    IpiHandler[] handler = new IpiHandler[8];
    int count;
    // The earliest delivery cycle queued (Long.MAX_VALUE: none): the scheduler asks for it for
    // every core at nearly every hand-over, far more often than IPIs are sent or taken.
    long nextDelivery = Long.MAX_VALUE;

    void add(long delivery, int from, IpiHandler work) {
      if (count == deliveryCycle.length) {
        deliveryCycle = java.util.Arrays.copyOf(deliveryCycle, count * 2);
        initiator = java.util.Arrays.copyOf(initiator, count * 2);
        handler = java.util.Arrays.copyOf(handler, count * 2);
      }
      deliveryCycle[count] = delivery;
      initiator[count] = from;
      handler[count] = work;
      count++;
      nextDelivery = Math.min(nextDelivery, delivery);
    }

    /** Index of the earliest delivery (the first in send order among equals), or -1. */
    int earliest() {
      int best = -1;
      for (int i = 0; i < count; i++) {
        if (best < 0 || deliveryCycle[i] < deliveryCycle[best]) {
          best = i;
        }
      }
      return best;
    }

    void remove(int index) {
      int tail = count - index - 1;
      System.arraycopy(deliveryCycle, index + 1, deliveryCycle, index, tail);
      System.arraycopy(initiator, index + 1, initiator, index, tail);
      System.arraycopy(handler, index + 1, handler, index, tail);
      count--;
      handler[count] = null;
      int next = earliest();
      nextDelivery = next < 0 ? Long.MAX_VALUE : deliveryCycle[next];
    }
  }

  Interrupts(
      InterruptCosts costs,
      CoreClocks clocks,
      RunStats stats,
      TraceBus traceBus,
      CoreActivity activity,
      TlbMaintenance maintenance,
      Scheduler scheduler) {
    this.maintenance = maintenance;
    this.costs = costs;
    this.clocks = clocks;
    this.stats = stats;
    this.traceBus = traceBus;
    this.activity = activity;
    this.scheduler = scheduler;
    int cores = clocks.cores();
    this.queues = new PendingIpis[cores];
    for (int core = 0; core < cores; core++) {
      queues[core] = new PendingIpis();
    }
    this.unacknowledged = new int[cores];
    this.latestAckCycle = new long[cores];
    this.waitingForAcks = new boolean[cores];
  }

  /**
   * Sends an inter-processor interrupt from {@code initiator} to each of {@code targets} (paying
   * the send cost per target, in order) and, when {@code waitForAcks}, waits for every
   * acknowledgement of the IPIs it has sent and not yet waited for.
   *
   * @param targets target cores; the initiator itself is skipped if present
   * @return the cycles the initiator spent, sending and waiting
   */
  long sendIpis(
      int initiator, int[] targets, int targetCount, IpiHandler handler, boolean waitForAcks) {
    long start = clocks.now(initiator);
    if (unacknowledged[initiator] == 0) {
      latestAckCycle[initiator] = start;
    }
    for (int i = 0; i < targetCount; i++) {
      int target = targets[i];
      if (target == initiator) {
        continue;
      }
      clocks.advance(initiator, costs.sendCycles());
      stats.countIpis(1);
      if (traceBus.wants(EventKind.IPI_SEND)) {
        traceBus.publish(EventKind.IPI_SEND, initiator, clocks.now(initiator), target, 0, 0);
      }
      long delivery = clocks.now(initiator) + costs.deliveryCycles();
      queues[target].add(delivery, initiator, handler);
      scheduler.interruptPosted();
      unacknowledged[initiator]++;
      if (!scheduler.running()) {
        clocks.waitUntil(target, delivery);
        deliverDue(target);
      }
    }
    stats.addComponentCycles(CycleComponent.IPIS, clocks.now(initiator) - start);
    if (waitForAcks) {
      waitForAcknowledgements(initiator);
    }
    return clocks.now(initiator) - start;
  }

  /**
   * Makes {@code core} wait until every IPI it sent has been acknowledged (Linux runs its local
   * share between sending and waiting); the wait counts as IPI cycles.
   */
  void waitForAcknowledgements(int core) {
    long before = clocks.now(core);
    if (unacknowledged[core] > 0) {
      waitingForAcks[core] = true;
      try {
        scheduler.block(core);
      } finally {
        waitingForAcks[core] = false;
      }
    }
    clocks.waitUntil(core, latestAckCycle[core]);
    stats.addComponentCycles(CycleComponent.IPIS, clocks.now(core) - before);
  }

  /** Whether {@code core} has sent IPIs whose acknowledgements it has not received. */
  boolean awaitingAcknowledgements(int core) {
    return unacknowledged[core] > 0;
  }

  @Override
  public long nextDeliveryCycle(int core) {
    return queues[core].nextDelivery;
  }

  @Override
  public void deliverDue(int core) {
    PendingIpis queue = queues[core];
    while (queue.nextDelivery <= clocks.now(core)) {
      int index = queue.earliest(); // due: nextDelivery is its delivery cycle
      long delivery = queue.deliveryCycle[index];
      int initiator = queue.initiator[index];
      IpiHandler handler = queue.handler[index];
      queue.remove(index);
      runHandler(core, initiator, handler, delivery);
    }
  }

  private void runHandler(int target, int initiator, IpiHandler handler, long delivery) {
    long handlerStart = clocks.now(target);
    stats.recordLatency(LATENESS, handlerStart - delivery);
    maintenance.applyArrived(target, handlerStart);
    int previousActing = activity.actingCore();
    activity.act(target);
    try {
      clocks.advance(target, costs.handlerEntryCycles());
      stats.addComponentCycles(CycleComponent.IPIS, costs.handlerEntryCycles());
      if (traceBus.wants(EventKind.IPI_RECEIVE)) {
        traceBus.publish(EventKind.IPI_RECEIVE, target, clocks.now(target), initiator, 0, 0);
      }
      handler.handle(target, initiator);
    } finally {
      activity.act(previousActing);
    }
    long ack = clocks.now(target) + costs.ackCycles();
    latestAckCycle[initiator] = Math.max(latestAckCycle[initiator], ack);
    if (--unacknowledged[initiator] == 0 && waitingForAcks[initiator]) {
      scheduler.wake(initiator, latestAckCycle[initiator]);
    }
  }
}
