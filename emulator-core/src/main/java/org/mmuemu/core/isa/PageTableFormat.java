package org.mmuemu.core.isa;

/**
 * The shape and descriptor encoding of an ISA's translation tables, which the generic walker in
 * emulator-core follows and the kernel writes.
 *
 * <p>Levels are numbered from the root: level 0 is the root table, level {@code levels() - 1} holds
 * the smallest pages. Every table has {@code 1 << indexBits()} 64-bit descriptors. Implementations
 * are immutable and thread-safe; every method is on the hot path of a walk and must not allocate.
 */
public interface PageTableFormat {

  /** Number of table levels (4 for a 48-bit VA with 4 KiB pages). */
  int levels();

  /** log2 of the base page size (12 for 4 KiB). */
  int pageShift();

  /** Index bits per table (9 for 4 KiB tables of 8-byte descriptors). */
  int indexBits();

  /**
   * Returns the lowest VA bit indexed at {@code level}: a leaf there maps {@code 1 << shift} bytes.
   */
  default int levelShift(int level) {
    return pageShift() + indexBits() * (levels() - 1 - level);
  }

  /** Returns the index into the level-{@code level} table that translates {@code va}. */
  default int index(long va, int level) {
    return (int) ((va >>> levelShift(level)) & ((1L << indexBits()) - 1));
  }

  /** Returns whether the descriptor is valid (present). */
  boolean isValid(long descriptor, int level);

  /**
   * Returns whether a valid descriptor at {@code level} maps memory (page or block) rather than a
   * table.
   */
  boolean isLeaf(long descriptor, int level);

  /** Returns whether a leaf (block) may be written at {@code level}. */
  boolean allowsLeaf(int level);

  /**
   * Returns the physical address the descriptor points at: the next table, or the page or block.
   */
  long outputPa(long descriptor, int level);

  /** Returns the {@link PteFlags} of a leaf descriptor. */
  int flags(long descriptor, int level);

  /** Encodes a table descriptor pointing at the table in the frame at {@code tablePa}. */
  long encodeTable(long tablePa, int level);

  /**
   * Encodes a leaf.
   *
   * @param pa the output address, aligned to {@code 1 << levelShift(level)}
   * @param level a level for which {@link #allowsLeaf} holds
   * @param flags {@link PteFlags}
   */
  long encodeLeaf(long pa, int level, int flags);

  /**
   * Returns log2 of the number of adjacent leaves the hardware may cache as one TLB entry with this
   * leaf (arm64 contiguous bit: 4, for runs of 16), or 0 when the leaf stands alone. A walk that
   * ends at such a leaf reports the run's size and base (the output address with the bits below the
   * run size cleared), as the hardware may.
   */
  default int contiguousShift(long descriptor, int level) {
    return 0;
  }

  /**
   * Returns whether the hardware itself marks a leaf dirty when a store goes through a writable,
   * clean translation (arm64 FEAT_HAFDBS with DBM; x86 sets the D bit), rewriting the descriptor
   * with {@link PteFlags#DIRTY} added; false means the kernel does it on a fault.
   */
  default boolean setsDirtyInHardware() {
    return false;
  }

  /**
   * Returns whether a walk that uses a leaf whose accessed flag is clear sets it in the descriptor
   * (arm64 FEAT_HAFDBS hardware access-flag management; x86 always, see {@link
   * #hardwareUpdatesAccessedDirty}); false means such an access would take an access-flag fault.
   * Only walks set it: a TLB hit uses the cached translation and leaves the descriptor alone, so
   * after software clears the flag ({@code ptep_test_and_clear_young}) an entry still cached keeps
   * being used without setting it again until the entry is invalidated.
   */
  default boolean setsAccessedInHardware() {
    return hardwareUpdatesAccessedDirty();
  }

  /** Returns the descriptor with its flags replaced, output address and kind kept. */
  long withFlags(long descriptor, int level, int flags);

  /**
   * Returns whether the hardware manages the accessed and dirty flags of leaves (x86 A and D): a
   * walk that uses a leaf sets its accessed flag, a store sets its dirty flag, and a TLB entry
   * caches the dirty flag, so the first store through an entry whose dirty flag is clear walks the
   * tables again to set it, and later stores through the refilled entry do not (Intel SDM Vol. 3
   * §4.8). Default false: the kernel writes these flags itself (arm64 without FEAT_HAFDBS).
   */
  default boolean hardwareUpdatesAccessedDirty() {
    return false;
  }

  /**
   * Returns the base-page leaf {@code leaf} turned into a PROT_NONE entry, as Linux's NUMA hinting
   * writes it ({@code pte_modify} with {@code PAGE_NONE}): the hardware sees an invalid entry, so
   * no TLB can cache it and an access faults, while the output address and the other bits stay for
   * the kernel ({@link #isProtNone}, {@link #restoreProtNone}). Only user (not global) leaves.
   *
   * @throws UnsupportedOperationException when the ISA has no such encoding
   */
  default long protNone(long leaf, int level) {
    throw new UnsupportedOperationException("this page-table format has no PROT_NONE encoding");
  }

  /** Returns whether the descriptor is an entry {@link #protNone} wrote (Linux pte_protnone). */
  default boolean isProtNone(long descriptor, int level) {
    return false;
  }

  /**
   * Returns the valid leaf a PROT_NONE entry was made from: a change from invalid to valid, which
   * needs no TLB invalidation.
   */
  default long restoreProtNone(long descriptor, int level) {
    throw new UnsupportedOperationException("this page-table format has no PROT_NONE encoding");
  }
}
