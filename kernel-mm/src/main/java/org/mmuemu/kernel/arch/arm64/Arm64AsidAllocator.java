package org.mmuemu.kernel.arch.arm64;

import java.util.BitSet;

/**
 * Linux's arm64 ASID allocator (arch/arm64/mm/context.c; DOMAIN.md §4.3): an mm's context id is
 * {@code generation | asid}; ASIDs are handed out from a bitmap of the current generation; when it
 * is full the generation rolls over, every core's active ASID becomes its reserved ASID (kept by
 * the mm running there), and every core is marked as owing a local full TLB flush before it next
 * installs a new-generation ASID. There is no broadcast TLBI at rollover.
 *
 * <p>The allocator decides; {@link Arm64TlbPolicy#switchMm} performs the flush it asks for.
 *
 * <p>{@code // MODEL:} no KPTI ASID pairs, no pinned ASIDs (SVA), no CnP; the fast path's lock-free
 * compare-and-exchange is a plain check: the allocator has no interleaving point inside, so another
 * core never sees it half-updated. ASID 0 is never handed out (it stays with init_mm and the
 * reserved TTBR0), as in Linux.
 */
final class Arm64AsidAllocator {
  /** Context id for "never had an ASID". */
  static final long NO_CONTEXT = 0;

  private final int asidBits;
  private final long numUserAsids;
  private final long asidMask;

  /** The generation increment: 2^asidBits, so a context id is generation | asid. */
  private final long firstVersion;

  private long generation;
  private final BitSet asidMap;
  private int curIdx = 1;
  private final long[] activeAsids;
  private final long[] reservedAsids;
  private final boolean[] tlbFlushPending;
  private long rollovers;

  /**
   * @param asidBits 8 or 16
   * @param cores the possible CPUs; must be fewer than the ASIDs less one
   */
  Arm64AsidAllocator(int asidBits, int cores) {
    if (asidBits < 2 || asidBits > 16) {
      throw new IllegalArgumentException("asidBits: " + asidBits + " (expected: 8 or 16)");
    }
    this.asidBits = asidBits;
    this.numUserAsids = 1L << asidBits;
    if (numUserAsids <= cores + 1L) {
      throw new IllegalArgumentException(
          "asidBits: "
              + asidBits
              + " gives "
              + numUserAsids
              + " ASIDs (expected: more"
              + " than the "
              + cores
              + " cores plus one, as Linux requires)");
    }
    this.asidMask = numUserAsids - 1;
    this.firstVersion = numUserAsids;
    this.generation = firstVersion;
    this.asidMap = new BitSet((int) numUserAsids);
    this.activeAsids = new long[cores];
    this.reservedAsids = new long[cores];
    this.tlbFlushPending = new boolean[cores];
  }

  /** The ASID number of a context id. */
  long asidOf(long contextId) {
    return contextId & asidMask;
  }

  long generation() {
    return generation;
  }

  long rollovers() {
    return rollovers;
  }

  long activeAsid(int core) {
    return activeAsids[core];
  }

  long reservedAsid(int core) {
    return reservedAsids[core];
  }

  boolean flushPending(int core) {
    return tlbFlushPending[core];
  }

  private boolean generationMatches(long contextId) {
    return ((contextId ^ generation) >>> asidBits) == 0;
  }

  /**
   * What a switch to an mm needs: its (possibly new) context id, and whether the core must flush
   * first.
   */
  record Switch(long contextId, boolean slowPath, boolean localFlush) {}

  /**
   * Linux {@code check_and_switch_context}: returns the context id {@code core} runs the mm with,
   * and whether it must do a local full TLB flush before installing it.
   *
   * @param contextId the mm's current context id ({@link #NO_CONTEXT} for a new mm)
   */
  Switch checkAndSwitch(int core, long contextId) {
    if (activeAsids[core] != 0 && contextId != NO_CONTEXT && generationMatches(contextId)) {
      activeAsids[core] = contextId; // fast path: the relaxed cmpxchg succeeds
      return new Switch(contextId, false, false);
    }
    long id = contextId;
    if (id == NO_CONTEXT || !generationMatches(id)) {
      id = newContext(id);
    }
    boolean flush = tlbFlushPending[core];
    tlbFlushPending[core] = false;
    activeAsids[core] = id;
    return new Switch(id, true, flush);
  }

  private long newContext(long contextId) {
    if (contextId != NO_CONTEXT) {
      long asid = asidOf(contextId);
      long renewed = generation | asid;
      if (updateReserved(contextId, renewed)) {
        return renewed;
      }
      if (!asidMap.get((int) asid)) {
        asidMap.set((int) asid);
        return renewed;
      }
    }
    int asid = asidMap.nextClearBit(curIdx);
    if (asid >= numUserAsids) {
      generation += firstVersion;
      flushContext();
      asid = asidMap.nextClearBit(1);
    }
    asidMap.set(asid);
    curIdx = asid;
    return generation | asid;
  }

  /** Every CPU's reserved copy of the old id moves to the new generation; none may be missed. */
  private boolean updateReserved(long oldId, long newId) {
    boolean hit = false;
    for (int cpu = 0; cpu < reservedAsids.length; cpu++) {
      if (reservedAsids[cpu] == oldId) {
        hit = true;
        reservedAsids[cpu] = newId;
      }
    }
    return hit;
  }

  private void flushContext() {
    rollovers++;
    asidMap.clear();
    for (int cpu = 0; cpu < activeAsids.length; cpu++) {
      long asid = activeAsids[cpu];
      activeAsids[cpu] = 0;
      if (asid == 0) {
        asid = reservedAsids[cpu];
      }
      asidMap.set((int) asidOf(asid));
      reservedAsids[cpu] = asid;
      tlbFlushPending[cpu] = true;
    }
  }
}
