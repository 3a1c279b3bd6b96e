package org.mmuemu.core.trace;

import java.util.Arrays;

/**
 * Fans published events out to the sinks that want them.
 *
 * <p>Publishers guard with {@link #wants} so that, when no sink listens to a kind, publishing costs
 * one mask test and allocates nothing. Confined to the simulation thread; sinks are added before
 * the run starts.
 */
public final class TraceBus {
  private TraceSink[] sinks = new TraceSink[0];
  private long mask;

  /** Adds a sink. Not to be called while a run is in progress. */
  public void addSink(TraceSink sink) {
    sinks = Arrays.copyOf(sinks, sinks.length + 1);
    sinks[sinks.length - 1] = sink;
    mask |= sink.kindMask();
  }

  /** Returns whether any sink wants {@code kind}. */
  public boolean wants(EventKind kind) {
    return (mask & kind.bit()) != 0;
  }

  /** Publishes an event to every sink that wants its kind. */
  public void publish(EventKind kind, int core, long cycle, long a, long b, long c) {
    long bit = kind.bit();
    if ((mask & bit) == 0) {
      return;
    }
    for (TraceSink sink : sinks) {
      if ((sink.kindMask() & bit) != 0) {
        sink.onEvent(kind, core, cycle, a, b, c);
      }
    }
  }

  /** Closes every sink. */
  public void close() {
    for (TraceSink sink : sinks) {
      sink.close();
    }
  }
}
