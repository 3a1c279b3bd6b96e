package org.mmuemu.core.walk;

/**
 * A walk cache (arm64) or paging-structure cache (x86) for one table level of one core: it
 * remembers, for the VA bits above that level's index, which next-level table the descriptor read
 * at that level pointed to, so a walk can start below it.
 *
 * <p>Fully associative, LRU, tagged like TLB entries: by address-space id, or global for the kernel
 * half. Each entry keeps the physical memory's allocation sequence at its fill, so the oracle can
 * tell a walk that starts from a table freed since.
 *
 * <p>Reference: Intel SDM Vol. 3 §4.10.3 (paging-structure caches); Arm ARM D8.14 (walk caches).
 * Confined to the simulation thread; nothing here allocates after construction.
 */
public final class WalkCache {
  private final int level;
  private final int coverShift;
  private final boolean[] valid;
  private final long[] keys;
  private final int[] asids;
  private final boolean[] globals;
  private final long[] tablePfns;
  private final long[] fillStamps;
  private final long[] lastUse;
  private long useClock;

  /**
   * @param level the table level whose descriptors are cached (0 = root)
   * @param coverShift the lowest VA bit of the key: the descriptor at {@code level} translates
   *     every VA with the same bits from {@code coverShift} up
   * @param entries capacity, at least 1
   */
  public WalkCache(int level, int coverShift, int entries) {
    this.level = level;
    this.coverShift = coverShift;
    this.valid = new boolean[entries];
    this.keys = new long[entries];
    this.asids = new int[entries];
    this.globals = new boolean[entries];
    this.tablePfns = new long[entries];
    this.fillStamps = new long[entries];
    this.lastUse = new long[entries];
  }

  public int level() {
    return level;
  }

  /** Returns the slot caching the next table for {@code va}, or -1. Updates LRU on a hit. */
  public int lookup(long va, int asid) {
    long key = va >>> coverShift;
    for (int slot = 0; slot < valid.length; slot++) {
      if (valid[slot] && keys[slot] == key && (globals[slot] || asids[slot] == asid)) {
        lastUse[slot] = ++useClock;
        return slot;
      }
    }
    return -1;
  }

  public long tablePfnOf(int slot) {
    return tablePfns[slot];
  }

  public long fillStampOf(int slot) {
    return fillStamps[slot];
  }

  /** Caches the next-level table for {@code va}. */
  public void fill(long va, int asid, boolean global, long tablePfn, long fillStamp) {
    long key = va >>> coverShift;
    int victim = 0;
    for (int slot = 0; slot < valid.length; slot++) {
      if (valid[slot]
          && keys[slot] == key
          && (globals[slot] == global)
          && (global || asids[slot] == asid)) {
        victim = slot;
        break;
      }
      if (!valid[slot]) {
        victim = slot;
        break;
      }
      if (lastUse[slot] < lastUse[victim]) {
        victim = slot;
      }
    }
    valid[victim] = true;
    keys[victim] = key;
    asids[victim] = asid;
    globals[victim] = global;
    tablePfns[victim] = tablePfn;
    fillStamps[victim] = fillStamp;
    lastUse[victim] = ++useClock;
  }

  /** Removes entries covering any VA in {@code [vaStart, vaEnd)} for the given space. */
  public int invalidateRange(
      long vaStart, long vaEnd, int asid, boolean allAsids, boolean includeGlobal) {
    int removed = 0;
    for (int slot = 0; slot < valid.length; slot++) {
      if (!valid[slot]) {
        continue;
      }
      long start = keys[slot] << coverShift;
      long last = start + ((1L << coverShift) - 1); // the end of the topmost region would wrap to 0
      boolean overlaps =
          Long.compareUnsigned(start, vaEnd) < 0 && Long.compareUnsigned(vaStart, last) <= 0;
      if (overlaps && (globals[slot] ? includeGlobal : (allAsids || asids[slot] == asid))) {
        valid[slot] = false;
        removed++;
      }
    }
    return removed;
  }

  /** Removes the entries of one space, or of all. */
  public int invalidateSpace(int asid, boolean allAsids, boolean includeGlobal) {
    int removed = 0;
    for (int slot = 0; slot < valid.length; slot++) {
      if (valid[slot] && (globals[slot] ? includeGlobal : (allAsids || asids[slot] == asid))) {
        valid[slot] = false;
        removed++;
      }
    }
    return removed;
  }
}
