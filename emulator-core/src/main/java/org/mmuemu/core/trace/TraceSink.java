package org.mmuemu.core.trace;

/**
 * Receives published events. Called on the simulation thread, synchronously; a sink that hands
 * events to another thread must copy the primitives into its own bounded buffer.
 */
public interface TraceSink {

  /** The kinds this sink wants, as a mask of {@link EventKind#bit()}s. */
  long kindMask();

  /**
   * One event. Payload meaning per {@link EventKind}.
   *
   * @param kind what happened
   * @param core the core it happened on
   * @param cycle that core's clock, in simulated cycles
   */
  void onEvent(EventKind kind, int core, long cycle, long a, long b, long c);

  /** Called once when the run ends. */
  default void close() {}
}
