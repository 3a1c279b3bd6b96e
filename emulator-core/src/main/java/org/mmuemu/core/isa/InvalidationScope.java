package org.mmuemu.core.isa;

/**
 * What a TLB invalidation removes, in ISA-neutral terms. Each ISA names the instruction that does
 * it ({@code TLBI VAE1IS}, {@code INVLPG}, {@code INVPCID type 1}).
 */
public enum InvalidationScope {
  /** Entries translating one VA in one address space, and global entries for that VA. */
  VA,
  /** Entries translating one VA in every address space (arm64 VAAE1). */
  VA_ALL_ASIDS,
  /** Every non-global entry of one address space. */
  ASID,
  /** Every non-global entry of every address space. */
  ALL_NON_GLOBAL,
  /** Every entry, global ones included. */
  ALL;

  /**
   * Whether the scope names addresses ({@link #VA}, {@link #VA_ALL_ASIDS}) rather than whole
   * address spaces.
   */
  public boolean byVa() {
    return this == VA || this == VA_ALL_ASIDS;
  }

  /**
   * Whether the scope removes every entry of at least one address space (counted as a full flush).
   */
  public boolean wholeSpace() {
    return !byVa();
  }
}
