package org.mmuemu.core.isa;

/**
 * How an ISA chooses the root table and the address-space tag for a virtual address: arm64 splits
 * the VA space between TTBR0 (user, ASID-tagged) and TTBR1 (kernel); x86 has one CR3 whose PCID
 * tags the non-global entries.
 *
 * <p>Immutable and thread-safe; {@link #rootPa} runs on every walk and must not allocate.
 */
public interface TranslationRegime {

  /** Number of VA bits translated (48 for 4-level 4 KiB tables). */
  int vaBits();

  /** Width of the address-space tag (arm64 ASID 8 or 16; x86 PCID 12, or 0 without PCID). */
  int asidBits();

  /** Returns whether {@code va} lies in the kernel (upper) half of the address space. */
  default boolean isKernelVa(long va) {
    return va < 0;
  }

  /**
   * Returns whether {@code va} is canonical: the bits above {@code vaBits() - 1} all equal bit
   * {@code vaBits() - 1}.
   */
  default boolean isCanonical(long va) {
    long upper = va >> (vaBits() - 1);
    return upper == 0 || upper == -1;
  }

  /**
   * Returns whether walk-cache entries for {@code va} are shared by every address space (arm64: the
   * TTBR1 half has no ASID) rather than tagged with the current one (x86 tags every
   * paging-structure-cache entry with the PCID).
   */
  default boolean sharesWalkCacheEntries(long va) {
    return isKernelVa(va);
  }

  /**
   * Returns the physical address of the root table that translates {@code va} in {@code context}.
   */
  long rootPa(long va, TranslationContext context);
}
