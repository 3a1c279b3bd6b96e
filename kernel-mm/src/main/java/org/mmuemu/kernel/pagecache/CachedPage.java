package org.mmuemu.kernel.pagecache;

/**
 * One page of a file in the page cache (a single-page folio): its frame, its dirty flag ({@code
 * PG_dirty}), its referenced flag ({@code PG_referenced}, reclaim's memory of a reference it has
 * already seen), the content version of the frame that storage holds, and the references
 * mmu_gathers hold on it until their flush.
 *
 * <p>Confined to the simulation thread.
 */
public final class CachedPage {
  private final MappedFile file;
  private final long index;
  private final long pfn;
  private boolean dirty;
  private boolean referenced;
  private long storedVersion;
  private long storedAtCycle;
  private int gatherRefs;

  CachedPage(MappedFile file, long index, long pfn, long storedVersion) {
    this.file = file;
    this.index = index;
    this.pfn = pfn;
    this.storedVersion = storedVersion;
  }

  public MappedFile file() {
    return file;
  }

  /** Page index in the file. */
  public long index() {
    return index;
  }

  public long pfn() {
    return pfn;
  }

  public boolean dirty() {
    return dirty;
  }

  /** {@code folio_mark_dirty}. */
  public void markDirty() {
    dirty = true;
  }

  /** {@code folio_clear_dirty_for_io}: the writeback path takes the dirty flag. */
  public void clearDirty() {
    dirty = false;
  }

  /** {@code folio_set_referenced}. */
  public void markReferenced() {
    referenced = true;
  }

  /** {@code folio_test_clear_referenced}: whether the flag was set; it is clear afterwards. */
  public boolean testClearReferenced() {
    boolean was = referenced;
    referenced = false;
    return was;
  }

  /** Frame content version storage holds for this page (written back, or read at fault time). */
  public long storedVersion() {
    return storedVersion;
  }

  /** Records that storage now holds content {@code version}, written back at {@code cycle}. */
  public void setStoredVersion(long version, long cycle) {
    storedVersion = version;
    storedAtCycle = cycle;
  }

  /**
   * Simulated cycle at which storage took {@link #storedVersion} (0 for a page read at fault time).
   */
  public long storedAtCycle() {
    return storedAtCycle;
  }

  public int gatherRefs() {
    return gatherRefs;
  }

  /** An mmu_gather took a reference (the page is queued until its flush). */
  public void getGatherRef() {
    gatherRefs++;
  }

  public void putGatherRef() {
    gatherRefs--;
  }
}
