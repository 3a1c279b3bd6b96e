package org.mmuemu.core.config;

import java.util.List;

/**
 * One TLB level of every core: geometry, page sizes, hit latency and replacement.
 *
 * @param name the level's name, unique in the machine ({@code l1d}, {@code l2}); used as the key in
 *     results
 * @param serves which translations look this level up
 * @param entries total entries; a positive multiple of {@code ways}
 * @param ways associativity; {@code ways == entries} is fully associative
 * @param pageSizesBytes the page sizes one entry may map, powers of two, ascending; a larger page
 *     is held as entries of the largest listed size below it
 * @param hitCycles cycles a lookup in this level costs (charged whether it hits or not)
 * @param replacement victim choice within a set
 */
public record TlbLevelSpec(
    String name,
    Serves serves,
    int entries,
    int ways,
    List<Long> pageSizesBytes,
    int hitCycles,
    Replacement replacement) {

  /** Which accesses a level translates. */
  public enum Serves {
    INSTRUCTION,
    DATA,
    UNIFIED;

    /** Returns whether a translation of the given kind looks this level up. */
    public boolean serves(boolean instructionFetch) {
      return this == UNIFIED || (this == INSTRUCTION) == instructionFetch;
    }

    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Victim selection within a set. */
  public enum Replacement {
    /** True least-recently-used. */
    LRU,
    /** Tree pseudo-LRU, as most hardware TLBs implement. */
    PLRU,
    /** Uniformly random way, from the run's seeded random source. */
    RANDOM;

    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public TlbLevelSpec {
    pageSizesBytes = List.copyOf(pageSizesBytes);
    if (entries <= 0 || ways <= 0 || entries % ways != 0) {
      throw new IllegalArgumentException(
          "ways: " + ways + " (expected: divides entries " + entries + ")");
    }
    if (pageSizesBytes.isEmpty()) {
      throw new IllegalArgumentException("pageSizes: [] (expected: at least one page size)");
    }
    for (long size : pageSizesBytes) {
      if (size < 4096 || Long.bitCount(size) != 1) {
        throw new IllegalArgumentException(
            "pageSizes: " + size + " (expected: a power of two, at least 4KiB)");
      }
    }
  }

  /** Number of sets: {@code entries / ways}. */
  public int sets() {
    return entries / ways;
  }
}
