package org.mmuemu.core.time;

/**
 * Interrupts on their way to cores, as the scheduler sees them: each has a delivery time, and the
 * scheduler runs a core's due handlers when that core reaches the time: at an interleaving point or
 * a step boundary of a running core, or as an event of its own for a core that is blocked or has no
 * program left.
 */
public interface InterruptSource {
  /** No interrupts ever. */
  InterruptSource NONE =
      new InterruptSource() {
        @Override
        public long nextDeliveryCycle(int core) {
          return Long.MAX_VALUE;
        }

        @Override
        public void deliverDue(int core) {}
      };

  /** The earliest delivery time of an interrupt pending on {@code core}, or Long.MAX_VALUE. */
  long nextDeliveryCycle(int core);

  /**
   * Runs, on {@code core} (as the acting core), every pending handler whose delivery time is at or
   * before the core's clock. Handlers never reach an interleaving point.
   */
  void deliverDue(int core);
}
