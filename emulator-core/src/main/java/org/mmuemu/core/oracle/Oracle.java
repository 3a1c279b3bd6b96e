package org.mmuemu.core.oracle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The always-on correctness oracle: collects violations with their context.
 *
 * <p>Checks live where the facts are (the machine checks TLB hits against frame stamps, the walker
 * checks the frames it reads, the kernel checks its own promises); they all report here. The first
 * {@code maxRecorded} violations are kept in full; every one is counted. Confined to the simulation
 * thread.
 */
public final class Oracle {
  private static final int HISTORY_LINES = 12;
  private final FrameHistory history;
  private final int maxRecorded;
  private final List<Violation> recorded = new ArrayList<>();
  private final long[] countByKind = new long[ViolationKind.values().length];
  private final FrameFreeTimes frees = new FrameFreeTimes();

  public Oracle(FrameHistory history, int maxRecorded) {
    this.history = history;
    this.maxRecorded = maxRecorded;
  }

  public FrameHistory history() {
    return history;
  }

  /** When each frame was freed: what time-aware checks compare a use's cycle with. */
  public FrameFreeTimes frees() {
    return frees;
  }

  /**
   * Returns whether a use at {@code cycle} of a translation to {@code pfn}, filled when the
   * allocation sequence stood at {@code fillStamp} and no longer current, comes at or after the
   * free that made it stale: a use before it (a core behind in time reaching a frame another core
   * frees later) is legitimate at the using core's time.
   */
  public boolean isStaleAt(long pfn, long fillStamp, long cycle) {
    return frees.staleSince(pfn, fillStamp) <= cycle;
  }

  /**
   * Reports a violation.
   *
   * @param pfn the frame whose history explains it, or -1
   */
  public void report(
      ViolationKind kind, int core, long cycle, long va, long pa, long pfn, String detail) {
    countByKind[kind.ordinal()]++;
    if (recorded.size() < maxRecorded) {
      List<String> lines = pfn > 0 ? history.historyOf(pfn, HISTORY_LINES) : List.of();
      recorded.add(new Violation(kind.name(), core, cycle, hex(va), hex(pa), detail, lines));
    }
  }

  /** Total violations, recorded or not. */
  public long total() {
    long sum = 0;
    for (long count : countByKind) {
      sum += count;
    }
    return sum;
  }

  public long count(ViolationKind kind) {
    return countByKind[kind.ordinal()];
  }

  /** The violations kept in full, in the order found. */
  public List<Violation> recorded() {
    return Collections.unmodifiableList(recorded);
  }

  /** Formats an address as {@code 0x...}, or null for -1. */
  public static String hex(long address) {
    return address == -1 ? null : String.format(Locale.ROOT, "0x%x", address);
  }
}
