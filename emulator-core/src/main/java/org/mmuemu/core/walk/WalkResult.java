package org.mmuemu.core.walk;

/**
 * The outcome of one page-table walk. Reused by its core for every walk (no allocation per walk);
 * read it before the next walk on the same core.
 */
public final class WalkResult {
  /** Whether the walk ended at an invalid descriptor. */
  public boolean faulted;

  /** The level of the invalid descriptor, or of the leaf. */
  public int level;

  /** Physical address of the page or block base (valid when not faulted). */
  public long basePa;

  /** log2 of the page or block size (valid when not faulted). */
  public int pageShift;

  /** {@link org.mmuemu.core.isa.PteFlags} of the leaf (valid when not faulted). */
  public int flags;

  /** Frame of the table holding the leaf (or the invalid descriptor), and its index there. */
  public long leafTablePfn;

  public int leafIndex;

  /** Descriptor reads that went to memory. */
  public int memoryRefs;

  /** Walk-cache hits (0 or 1: the walk starts below the deepest hit). */
  public int walkCacheHits;

  /** Cycles the walk cost. */
  public long cycles;

  void reset() {
    faulted = false;
    level = 0;
    basePa = 0;
    pageShift = 0;
    flags = 0;
    leafTablePfn = 0;
    leafIndex = 0;
    memoryRefs = 0;
    walkCacheHits = 0;
    cycles = 0;
  }
}
