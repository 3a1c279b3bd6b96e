package org.mmuemu.core.tlb;

import java.util.SplittableRandom;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;

/**
 * One set-associative TLB level of one core, held in primitive arrays (no object per entry).
 *
 * <p>An entry maps one page of one of the level's page sizes: its virtual page number ({@code va
 * >>> pageShift}), the physical frame of the page's first 4 KiB, the address-space tag (ignored for
 * global entries), the {@link org.mmuemu.core.isa.PteFlags} and the physical memory's allocation
 * sequence at the fill, which the oracle compares with the frame's stamp.
 *
 * <p>The set of an entry is its virtual page number modulo the number of sets, for its page size; a
 * lookup probes each listed page size in turn. A lookup that hits updates the replacement state; a
 * miss leaves it alone.
 *
 * <p>Reference: the geometry and per-size behaviour follow the TLB organisation chapters of the Arm
 * Cortex-A76 TRM (§A5.2) and Intel's optimization manual (Table 2-15).
 *
 * <p>Confined to the simulation thread. {@link #lookup} and {@link #fill} allocate nothing.
 */
public final class SetAssociativeTlb {
  private final String name;
  private final int levelIndex;
  private final TlbLevelSpec.Serves serves;
  private final int sets;
  private final int ways;
  private final int hitCycles;
  private final Replacement replacement;

  /** Supported page shifts, ascending. */
  private final int[] pageShifts;

  private final boolean[] valid;
  private final long[] vpns;
  private final byte[] sizeIndexes;
  private final int[] asids;
  private final boolean[] globals;
  private final long[] pfns;
  private final int[] flags;
  private final long[] fillStamps;
  private final long[] fillRoots;
  private final long[] lastUse;

  /** Tree-PLRU node bits, {@code plruLeaves} per set (node 1 is the root; 0 points left). */
  private final boolean[] plruNodes;

  private final int plruLeaves;
  private final SplittableRandom random;
  private long useClock;

  private long lookups;
  private long hits;
  private long misses;

  /**
   * Builds an empty TLB.
   *
   * @param spec geometry, sizes, latency and policy
   * @param randomSeed seed of this level's random source (used only by {@code random})
   */
  public SetAssociativeTlb(TlbLevelSpec spec, long randomSeed) {
    this(spec, randomSeed, 0);
  }

  /**
   * Builds an empty TLB that knows its position among the machine's levels.
   *
   * @param levelIndex position of this level in the machine config (reported in traces)
   */
  public SetAssociativeTlb(TlbLevelSpec spec, long randomSeed, int levelIndex) {
    this.levelIndex = levelIndex;
    this.name = spec.name();
    this.serves = spec.serves();
    this.sets = spec.sets();
    this.ways = spec.ways();
    this.hitCycles = spec.hitCycles();
    this.replacement = spec.replacement();
    this.pageShifts =
        spec.pageSizesBytes().stream()
            .mapToInt(Long::numberOfTrailingZeros)
            .sorted()
            .distinct()
            .toArray();
    int n = spec.entries();
    this.valid = new boolean[n];
    this.vpns = new long[n];
    this.sizeIndexes = new byte[n];
    this.asids = new int[n];
    this.globals = new boolean[n];
    this.pfns = new long[n];
    this.flags = new int[n];
    this.fillStamps = new long[n];
    this.fillRoots = new long[n];
    this.lastUse = new long[n];
    this.plruLeaves = Integer.bitCount(ways) == 1 ? ways : Integer.highestOneBit(ways) << 1;
    this.plruNodes =
        replacement == Replacement.PLRU
            ? new boolean[sets * Math.max(2, plruLeaves)]
            : new boolean[0];
    this.random = new SplittableRandom(randomSeed);
  }

  public String name() {
    return name;
  }

  /** Position of this level in the machine config's level list. */
  public int levelIndex() {
    return levelIndex;
  }

  public TlbLevelSpec.Serves serves() {
    return serves;
  }

  public int hitCycles() {
    return hitCycles;
  }

  public int capacity() {
    return valid.length;
  }

  public long lookups() {
    return lookups;
  }

  public long hits() {
    return hits;
  }

  public long misses() {
    return misses;
  }

  /** Returns whether this level can hold an entry of the page size {@code 1 << pageShift}. */
  public boolean supportsPageShift(int pageShift) {
    for (int shift : pageShifts) {
      if (shift == pageShift) {
        return true;
      }
    }
    return false;
  }

  /**
   * Looks {@code va} up for address space {@code asid}, counting one lookup.
   *
   * @return the entry's slot, or -1 on a miss
   */
  public int lookup(long va, int asid) {
    lookups++;
    int slot = probe(va, asid);
    if (slot < 0) {
      misses++;
      return -1;
    }
    hits++;
    touch(slot);
    return slot;
  }

  /** Finds the entry translating {@code va} for {@code asid} without counting or touching it. */
  public int probe(long va, int asid) {
    for (int sizeIndex = 0; sizeIndex < pageShifts.length; sizeIndex++) {
      long vpn = va >>> pageShifts[sizeIndex];
      int base = setOf(vpn) * ways;
      for (int slot = base; slot < base + ways; slot++) {
        if (valid[slot]
            && vpns[slot] == vpn
            && sizeIndexes[slot] == sizeIndex
            && (globals[slot] || asids[slot] == asid)) {
          return slot;
        }
      }
    }
    return -1;
  }

  /**
   * Inserts a translation. A page larger than every size this level holds is cached as an entry of
   * the largest size below it that covers {@code va} ({@code // MODEL:} splintering, as x86 L1 TLBs
   * do with 1 GiB pages); a page smaller than every size is not cached here.
   *
   * @param va the translated address
   * @param pageShift log2 of the page or block size of the translation
   * @param pfn frame number of the first 4 KiB of that page or block
   * @param fillStamp physical memory's allocation sequence when the translation was walked
   * @return the slot filled, or -1 when this level holds no suitable size
   */
  public int fill(
      long va, int pageShift, int asid, boolean global, long pfn, int entryFlags, long fillStamp) {
    int sizeIndex = -1;
    for (int i = pageShifts.length - 1; i >= 0; i--) {
      if (pageShifts[i] <= pageShift) {
        sizeIndex = i;
        break;
      }
    }
    if (sizeIndex < 0) {
      return -1;
    }
    int shift = pageShifts[sizeIndex];
    long vpn = va >>> shift;
    // A splintered entry maps the piece of the larger page that holds va.
    long entryPfn = pfn + (((va & ((1L << pageShift) - 1)) >>> shift) << (shift - 12));
    int existing = probe(va, asid);
    int slot;
    if (existing >= 0 && sizeIndexes[existing] == sizeIndex) {
      slot = existing;
    } else {
      slot = victim(setOf(vpn));
    }
    valid[slot] = true;
    vpns[slot] = vpn;
    sizeIndexes[slot] = (byte) sizeIndex;
    asids[slot] = asid;
    globals[slot] = global;
    pfns[slot] = entryPfn;
    flags[slot] = entryFlags;
    fillStamps[slot] = fillStamp;
    fillRoots[slot] = 0;
    touch(slot);
    return slot;
  }

  /** Physical address that the entry in {@code slot} gives for {@code va}. */
  public long translate(int slot, long va) {
    int shift = pageShifts[sizeIndexes[slot]];
    return (pfns[slot] << 12) + (va & ((1L << shift) - 1));
  }

  public long pfnOf(int slot) {
    return pfns[slot];
  }

  public int pageShiftOf(int slot) {
    return pageShifts[sizeIndexes[slot]];
  }

  public int flagsOf(int slot) {
    return flags[slot];
  }

  /**
   * Records the translation root (page-table base) the entry at {@code slot} was filled from: the
   * oracle checks that an ASID-tagged entry is only used under the root it came from.
   */
  public void setFillRoot(int slot, long rootPa) {
    fillRoots[slot] = rootPa;
  }

  /** The root the entry at {@code slot} was filled from (0 when not recorded). */
  public long fillRootOf(int slot) {
    return fillRoots[slot];
  }

  public long fillStampOf(int slot) {
    return fillStamps[slot];
  }

  public int asidOf(int slot) {
    return asids[slot];
  }

  public boolean isGlobal(int slot) {
    return globals[slot];
  }

  public boolean isValid(int slot) {
    return valid[slot];
  }

  /** Sets the flags of a live entry (hardware updating a cached dirty bit). */
  public void setFlags(int slot, int entryFlags) {
    flags[slot] = entryFlags;
  }

  /**
   * Removes entries that translate any address in {@code [vaStart, vaEnd)}.
   *
   * @param asid address space to match, ignored when {@code allAsids}
   * @param allAsids match every address space
   * @param includeGlobal remove matching global entries too
   * @return entries removed
   */
  public int invalidateRange(
      long vaStart, long vaEnd, int asid, boolean allAsids, boolean includeGlobal) {
    if (Long.compareUnsigned(vaStart, vaEnd) < 0 && pagesPerSize(vaStart, vaEnd) < sets) {
      return invalidateSets(vaStart, vaEnd, asid, allAsids, includeGlobal);
    }
    int removed = 0;
    for (int slot = 0; slot < valid.length; slot++) {
      if (!valid[slot]) {
        continue;
      }
      int shift = pageShifts[sizeIndexes[slot]];
      long entryStart = vpns[slot] << shift;
      // The last byte, not the end: an entry for the topmost page would end at 2^64, which wraps to
      // 0.
      long entryLast = entryStart + ((1L << shift) - 1);
      boolean overlaps =
          Long.compareUnsigned(entryStart, vaEnd) < 0
              && Long.compareUnsigned(vaStart, entryLast) <= 0;
      if (overlaps && matchesSpace(slot, asid, allAsids, includeGlobal)) {
        valid[slot] = false;
        removed++;
      }
    }
    return removed;
  }

  /** The most pages of one of the level's sizes that {@code [vaStart, vaEnd)} touches. */
  private long pagesPerSize(long vaStart, long vaEnd) {
    int smallest = pageShifts[0];
    return ((vaEnd - 1) >>> smallest) - (vaStart >>> smallest) + 1;
  }

  /**
   * {@link #invalidateRange} for a range touching fewer pages of each size than there are sets: an
   * entry of a size overlaps the range exactly when its page number lies in the range's, and lives
   * in that page number's set, so only those sets are looked at (one per page, none twice).
   */
  private int invalidateSets(
      long vaStart, long vaEnd, int asid, boolean allAsids, boolean includeGlobal) {
    int removed = 0;
    for (int sizeIndex = 0; sizeIndex < pageShifts.length; sizeIndex++) {
      long lastVpn = (vaEnd - 1) >>> pageShifts[sizeIndex];
      for (long vpn = vaStart >>> pageShifts[sizeIndex]; vpn <= lastVpn; vpn++) {
        int base = setOf(vpn) * ways;
        for (int slot = base; slot < base + ways; slot++) {
          if (valid[slot]
              && vpns[slot] == vpn
              && sizeIndexes[slot] == sizeIndex
              && matchesSpace(slot, asid, allAsids, includeGlobal)) {
            valid[slot] = false;
            removed++;
          }
        }
      }
    }
    return removed;
  }

  /**
   * Removes every entry of one address space, or of all.
   *
   * @return entries removed
   */
  public int invalidateSpace(int asid, boolean allAsids, boolean includeGlobal) {
    int removed = 0;
    for (int slot = 0; slot < valid.length; slot++) {
      if (valid[slot] && matchesSpace(slot, asid, allAsids, includeGlobal)) {
        valid[slot] = false;
        removed++;
      }
    }
    return removed;
  }

  private boolean matchesSpace(int slot, int asid, boolean allAsids, boolean includeGlobal) {
    if (globals[slot]) {
      return includeGlobal;
    }
    return allAsids || asids[slot] == asid;
  }

  /** Number of valid entries. */
  public int occupancy() {
    int count = 0;
    for (boolean v : valid) {
      if (v) {
        count++;
      }
    }
    return count;
  }

  private int setOf(long vpn) {
    return (int) Long.remainderUnsigned(vpn, sets);
  }

  private int victim(int set) {
    int base = set * ways;
    for (int slot = base; slot < base + ways; slot++) {
      if (!valid[slot]) {
        return slot;
      }
    }
    switch (replacement) {
      case RANDOM:
        return base + random.nextInt(ways);
      case PLRU:
        return base + plruVictim(set);
      case LRU:
      default:
        int oldest = base;
        for (int slot = base + 1; slot < base + ways; slot++) {
          if (lastUse[slot] < lastUse[oldest]) {
            oldest = slot;
          }
        }
        return oldest;
    }
  }

  private void touch(int slot) {
    lastUse[slot] = ++useClock;
    if (replacement == Replacement.PLRU && ways > 1) {
      plruTouch(slot / ways, slot % ways);
    }
  }

  // Tree pseudo-LRU over the next power of two of ways. Each node bit points toward the half
  // to evict next; a touch turns every node on the way's path away from it. Leaves beyond
  // `ways` do not exist, so the victim walk never descends into a half that holds none.
  private void plruTouch(int set, int way) {
    int base = set * plruLeaves;
    int node = 1;
    int low = 0;
    int span = plruLeaves;
    while (span > 1) {
      span >>= 1;
      boolean right = way >= low + span;
      plruNodes[base + node] = !right; // point at the other half
      node = node * 2 + (right ? 1 : 0);
      if (right) {
        low += span;
      }
    }
  }

  private int plruVictim(int set) {
    int base = set * plruLeaves;
    int node = 1;
    int low = 0;
    int span = plruLeaves;
    while (span > 1) {
      span >>= 1;
      boolean right = plruNodes[base + node];
      if (right && low + span >= ways) {
        right = false;
      }
      node = node * 2 + (right ? 1 : 0);
      if (right) {
        low += span;
      }
    }
    return low;
  }
}
