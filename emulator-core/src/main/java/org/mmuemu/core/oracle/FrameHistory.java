package org.mmuemu.core.oracle;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A bounded ring of recent frame events (allocation, free, mapping, fill, invalidation), kept so
 * that a violation can show how its frame got there.
 *
 * <p>Primitive arrays, no allocation per event. Only the last {@code capacity} events survive, so a
 * violation's history covers the recent past, not the whole run. Confined to the simulation thread.
 */
public final class FrameHistory {
  /** What happened to a frame. */
  public enum FrameEvent {
    ALLOCATED,
    FREED,
    MAPPED,
    UNMAPPED,
    TLB_FILLED,
    INVALIDATED
  }

  private static final FrameEvent[] EVENTS = FrameEvent.values();
  private final long[] pfns;
  private final long[] cycles;
  private final int[] cores;
  private final byte[] events;
  private final long[] vas;
  private final long[] details;
  private long written;

  public FrameHistory(int capacity) {
    pfns = new long[capacity];
    cycles = new long[capacity];
    cores = new int[capacity];
    events = new byte[capacity];
    vas = new long[capacity];
    details = new long[capacity];
  }

  /** Records an event; {@code detail} is event-specific (allocation stamp, TLB level). */
  public void record(long pfn, FrameEvent event, int core, long cycle, long va, long detail) {
    int i = (int) (written++ % pfns.length);
    pfns[i] = pfn;
    cycles[i] = cycle;
    cores[i] = core;
    events[i] = (byte) event.ordinal();
    vas[i] = va;
    details[i] = detail;
  }

  /**
   * The most recent {@code event} of {@code pfn} at {@code va} still held: {@code {cycle, core}},
   * or null when none is (never happened, or overwritten since).
   */
  public long[] lastEvent(long pfn, FrameEvent event, long va) {
    long oldest = Math.max(0, written - pfns.length);
    for (long n = written - 1; n >= oldest; n--) {
      int i = (int) (n % pfns.length);
      if (pfns[i] == pfn && events[i] == event.ordinal() && vas[i] == va) {
        return new long[] {cycles[i], cores[i]};
      }
    }
    return null;
  }

  /** Returns up to {@code limit} most recent events of {@code pfn}, oldest first, as text. */
  public List<String> historyOf(long pfn, int limit) {
    List<String> newestFirst = new ArrayList<>();
    long oldest = Math.max(0, written - pfns.length);
    for (long n = written - 1; n >= oldest && newestFirst.size() < limit; n--) {
      int i = (int) (n % pfns.length);
      if (pfns[i] == pfn) {
        newestFirst.add(
            String.format(
                Locale.ROOT,
                "cycle %d core %d: frame 0x%x %s%s",
                cycles[i],
                cores[i],
                pfn,
                EVENTS[events[i]].name().toLowerCase(Locale.ROOT).replace('_', ' '),
                vas[i] == 0 ? "" : String.format(Locale.ROOT, " va 0x%x", vas[i])));
      }
    }
    java.util.Collections.reverse(newestFirst);
    return newestFirst;
  }
}
