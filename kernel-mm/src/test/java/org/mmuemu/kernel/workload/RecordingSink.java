package org.mmuemu.kernel.workload;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;

/** Keeps every event of the kinds it was built for, in publication order (tests only). */
final class RecordingSink implements TraceSink {
  /** One published event with its three payload words. */
  record Event(EventKind kind, int core, long a, long b, long c) {}

  private final long mask;
  private final List<Event> events = new ArrayList<>();

  RecordingSink(EventKind... kinds) {
    long m = 0;
    for (EventKind kind : kinds) {
      m |= kind.bit();
    }
    this.mask = m;
  }

  @Override
  public long kindMask() {
    return mask;
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    events.add(new Event(kind, core, a, b, c));
  }

  List<Event> events() {
    return events;
  }
}
