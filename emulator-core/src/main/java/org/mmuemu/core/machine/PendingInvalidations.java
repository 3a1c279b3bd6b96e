package org.mmuemu.core.machine;

import org.mmuemu.core.isa.InvalidationScope;

/**
 * Invalidations that are on their way to a core: a broadcast issued elsewhere, or the flush an IPI
 * handler does on a core whose clock has not reached the interrupt's delivery yet. Each waits, with
 * its arrival cycle, until the core's clock (or an observer's, see {@code Machine.core}) reaches
 * it; until then the core may still hit the entry it removes.
 *
 * <p>One fixed ring of primitive arrays per core, allocated once: queueing and applying allocate
 * nothing. {@link #dueAt} is the hot-path test, one array read.
 *
 * <p>{@code // MODEL:} the ring has {@link #CAPACITY} slots per core. When a core's ring is full (a
 * core far behind in time while others issue thousands of broadcasts without it translating), the
 * earliest-arriving pending invalidation is applied at once, early: the target then misses an entry
 * it could still have hit, so a stale use may be missed, never invented. {@link #appliedEarly}
 * counts these; every built-in workload leaves it at 0.
 */
final class PendingInvalidations {
  /** Pending invalidations one core can hold before the earliest is applied early. */
  static final int CAPACITY = 4096;

  /** What applies one pending invalidation to one core's TLBs and walk caches. */
  interface Applier {
    void apply(
        int core,
        InvalidationScope scope,
        long vaStart,
        long vaEnd,
        int asid,
        boolean keepWalkCaches,
        boolean byVaRemovesGlobal);
  }

  private static final InvalidationScope[] SCOPES = InvalidationScope.values();
  private final long[] dueAt;
  private final int[] counts;
  private final long[][] arrivals;
  private final byte[][] scopes;
  private final long[][] vaStarts;
  private final long[][] vaEnds;
  private final int[][] asids;
  private final byte[][] flags;
  private long appliedEarly;

  PendingInvalidations(int cores) {
    dueAt = new long[cores];
    java.util.Arrays.fill(dueAt, Long.MAX_VALUE);
    counts = new int[cores];
    arrivals = new long[cores][CAPACITY];
    scopes = new byte[cores][CAPACITY];
    vaStarts = new long[cores][CAPACITY];
    vaEnds = new long[cores][CAPACITY];
    asids = new int[cores][CAPACITY];
    flags = new byte[cores][CAPACITY];
  }

  /** The earliest arrival pending for {@code core}, {@link Long#MAX_VALUE} when none is. */
  long dueAt(int core) {
    return dueAt[core];
  }

  int pendingCount(int core) {
    return counts[core];
  }

  /** Pending invalidations applied before their arrival because a core's ring was full. */
  long appliedEarly() {
    return appliedEarly;
  }

  /** Queues an invalidation that reaches {@code core} at {@code arrivalCycle}. */
  void add(
      int core,
      long arrivalCycle,
      InvalidationScope scope,
      long vaStart,
      long vaEnd,
      int asid,
      boolean keepWalkCaches,
      boolean byVaRemovesGlobal,
      Applier applier) {
    if (counts[core] == CAPACITY) {
      appliedEarly++;
      applyDue(core, dueAt[core], applier);
    }
    int i = counts[core]++;
    arrivals[core][i] = arrivalCycle;
    scopes[core][i] = (byte) scope.ordinal();
    vaStarts[core][i] = vaStart;
    vaEnds[core][i] = vaEnd;
    asids[core][i] = asid;
    flags[core][i] = (byte) ((keepWalkCaches ? 1 : 0) | (byVaRemovesGlobal ? 2 : 0));
    dueAt[core] = Math.min(dueAt[core], arrivalCycle);
  }

  /**
   * Applies, in arrival order where it matters not (removals commute), every invalidation pending
   * for {@code core} that arrives at or before {@code cycle}, and keeps the rest.
   */
  void applyDue(int core, long cycle, Applier applier) {
    if (dueAt[core] > cycle) {
      return;
    }
    long[] arrival = arrivals[core];
    int kept = 0;
    long nextDue = Long.MAX_VALUE;
    int n = counts[core];
    for (int i = 0; i < n; i++) {
      if (arrival[i] <= cycle) {
        applier.apply(
            core,
            SCOPES[scopes[core][i]],
            vaStarts[core][i],
            vaEnds[core][i],
            asids[core][i],
            (flags[core][i] & 1) != 0,
            (flags[core][i] & 2) != 0);
        continue;
      }
      if (kept != i) {
        arrival[kept] = arrival[i];
        scopes[core][kept] = scopes[core][i];
        vaStarts[core][kept] = vaStarts[core][i];
        vaEnds[core][kept] = vaEnds[core][i];
        asids[core][kept] = asids[core][i];
        flags[core][kept] = flags[core][i];
      }
      nextDue = Math.min(nextDue, arrival[i]);
      kept++;
    }
    counts[core] = kept;
    dueAt[core] = nextDue;
  }
}
