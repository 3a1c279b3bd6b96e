package org.mmuemu.core.machine;

import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceBus;

/**
 * Inter-processor interrupts of one machine: sending, delivery to each target (the handler runs
 * there, as the acting core, on the target's clock) and acknowledgement timing, priced by the ISA's
 * {@link InterruptCosts}.
 *
 * <p>Confined to the simulation thread; sending allocates nothing.
 */
final class Interrupts {
  private final InterruptCosts costs;
  private final CoreClocks clocks;
  private final RunStats stats;
  private final TraceBus traceBus;
  private final CoreActivity activity;
  private final TlbMaintenance maintenance;
  private long lastIpiAcknowledgedCycle;

  Interrupts(
      InterruptCosts costs,
      CoreClocks clocks,
      RunStats stats,
      TraceBus traceBus,
      CoreActivity activity,
      TlbMaintenance maintenance) {
    this.maintenance = maintenance;
    this.costs = costs;
    this.clocks = clocks;
    this.stats = stats;
    this.traceBus = traceBus;
    this.activity = activity;
  }

  /**
   * Sends an inter-processor interrupt from {@code initiator} to each of {@code targets} and, when
   * {@code waitForAcks}, waits for the slowest acknowledgement.
   *
   * <p>The initiator pays the send cost per target, in order. A target takes the interrupt at its
   * next step boundary at or after the delivery time: a busy target (whose clock is already at or
   * past the initiator's, as the scheduler guarantees) pays the handler entry plus the handler's
   * own work on its clock; an idle target's clock first moves to the delivery time. Each
   * acknowledgement arrives {@code ackCycles} after its handler ends.
   *
   * <p>The handler's TLB changes on the target land at the handler's time measured from the
   * delivery: a target whose clock is still before the delivery keeps (and may hit) its old entries
   * until then. Invalidations that reached the target before the handler are applied first.
   *
   * <p>{@code // MODEL:} kernel calls are atomic steps, so the handler's cycles are charged at the
   * target's clock when the IPI is sent rather than at the delivery, and anything else the handler
   * changes (a context register on x86 lazy-TLB cores, kernel bookkeeping) changes at once; only
   * the TLB and walk-cache changes are timed.
   *
   * @param targets target cores; the initiator itself is skipped if present
   * @return the cycles the initiator spent, sending and waiting
   */
  long sendIpis(
      int initiator, int[] targets, int targetCount, IpiHandler handler, boolean waitForAcks) {
    long start = clocks.now(initiator);
    long latestAck = start;
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
      if (activity.isIdle(target)) {
        clocks.waitUntil(target, delivery);
      }
      long handlerStart = clocks.now(target);
      maintenance.applyArrived(target, handlerStart);
      int previousActing = activity.actingCore();
      activity.act(target);
      clocks.advance(target, costs.handlerEntryCycles());
      stats.addComponentCycles(CycleComponent.IPIS, costs.handlerEntryCycles());
      if (traceBus.wants(EventKind.IPI_RECEIVE)) {
        traceBus.publish(EventKind.IPI_RECEIVE, target, clocks.now(target), initiator, 0, 0);
      }
      maintenance.deferLocalEffects(target, Math.max(0, delivery - handlerStart));
      try {
        handler.handle(target, initiator);
      } finally {
        maintenance.endDeferral();
      }
      activity.act(previousActing);
      long handlerCycles = clocks.now(target) - handlerStart;
      long ack = Math.max(handlerStart, delivery) + handlerCycles + costs.ackCycles();
      latestAck = Math.max(latestAck, ack);
    }
    lastIpiAcknowledgedCycle = latestAck;
    stats.addComponentCycles(CycleComponent.IPIS, clocks.now(initiator) - start);
    if (waitForAcks) {
      waitForAcknowledgements(initiator, latestAck);
    }
    return clocks.now(initiator) - start;
  }

  /**
   * Makes {@code core} wait until {@code acknowledgedCycle}, the time the targets of IPIs it sent
   * without waiting have acknowledged ({@link #lastIpiAcknowledgedCycle}); the wait counts as IPI
   * cycles.
   */
  public void waitForAcknowledgements(int core, long acknowledgedCycle) {
    long before = clocks.now(core);
    clocks.waitUntil(core, acknowledgedCycle);
    stats.addComponentCycles(CycleComponent.IPIS, clocks.now(core) - before);
  }

  /**
   * Returns the cycle by which every target of the last {@link #sendIpis} call had acknowledged
   * (the sender's clock after sending when there was no target). An initiator that sent without
   * waiting, did its own share of the work, and then waits, waits until this cycle (Linux runs the
   * local flush between sending and waiting).
   */
  long lastIpiAcknowledgedCycle() {
    return lastIpiAcknowledgedCycle;
  }
}
