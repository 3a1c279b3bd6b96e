package org.mmuemu.core.isa;

/**
 * What a TLB invalidation removes, in ISA-neutral terms. Each ISA names the instruction that
 * does it ({@code TLBI VAE1IS}, {@code INVLPG}, {@code INVPCID type 1}).
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
  ALL
}
