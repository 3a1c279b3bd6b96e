package org.mmuemu.kernel.rmap;

import java.util.HashSet;
import java.util.Set;

/**
 * The sharing state of anonymous pages (Linux mm/rmap.c and the folio's counts): how many PTEs map
 * a page ({@code folio_mapcount}), the references GUP pins and mmu_gathers hold on it, and the
 * exclusive marker ({@code PageAnonExclusive}, Linux 5.19+) that lets a write fault reuse a page
 * without looking at any count.
 *
 * <p>A page this class does not know is in the state every new anonymous page starts in: mapped
 * once, exclusive, with no other reference; only pages that fork shared, a pin holds or a copy left
 * behind are tracked, so runs without fork pay nothing.
 *
 * <p>Transparent huge pages are known by their head frame while one PMD maps them; they are never
 * shared (fork splits them first), so their counts are those of an exclusive page.
 *
 * <p>{@code // MODEL:} the counts are kept per frame instead of the folio's refcount and mapcount
 * atomics; the anon_vma chain is not modelled (the page's owner mms are not needed to find its
 * PTEs: nothing here reclaims or migrates anonymous pages). Confined to the simulation thread.
 */
public final class AnonPages {
  private static final class State {
    int mapcount = 1;
    int pins;
    int gatherRefs;
    int transientRefs;
    boolean exclusive = true;

    boolean plain() {
      return mapcount == 1 && pins == 0 && gatherRefs == 0 && transientRefs == 0 && exclusive;
    }

    boolean unreferenced() {
      return mapcount == 0 && pins == 0 && gatherRefs == 0 && transientRefs == 0;
    }
  }

  private final org.mmuemu.core.collect.LongObjectMap<State> tracked =
      new org.mmuemu.core.collect.LongObjectMap<>();
  private final Set<Long> hugeHeads = new HashSet<>();

  /** {@code pfn} heads a 2 MiB anonymous folio mapped by one PMD (a transparent huge page). */
  public void addHuge(long headPfn) {
    hugeHeads.add(headPfn);
  }

  /**
   * The huge page headed by {@code headPfn} was split into base pages (each now its own page).
   *
   * @return whether it was a huge page
   */
  public boolean splitHuge(long headPfn) {
    return hugeHeads.remove(headPfn);
  }

  /** Whether {@code pfn} heads a huge page that is still mapped by one PMD. */
  public boolean isHugeHead(long pfn) {
    return hugeHeads.contains(pfn);
  }

  /**
   * fork maps {@code pfn} in the child too ({@code folio_try_dup_anon_rmap_pte}): the page is
   * shared and no longer exclusive.
   *
   * @return false, changing nothing, when the page may be pinned for DMA and must be copied for the
   *     child at once instead ({@code folio_needs_cow_for_dma})
   */
  public boolean dupForFork(long pfn) {
    State state = tracked.computeIfAbsent(pfn, key -> new State());
    if (state.pins > 0) {
      return false;
    }
    state.mapcount++;
    state.exclusive = false;
    return true;
  }

  /**
   * Whether a write (or unshare) fault may keep using {@code pfn} instead of copying it: the page
   * is marked exclusive, or it is mapped once and nothing else holds a reference ({@code
   * wp_can_reuse_anon_folio}), in which case it becomes exclusive again.
   *
   * @return how: {@link Reuse#EXCLUSIVE}, {@link Reuse#ONLY_REFERENCE}, or {@link Reuse#NO}
   */
  public Reuse reuse(long pfn) {
    State state = tracked.get(pfn);
    if (state == null || state.exclusive) {
      return Reuse.EXCLUSIVE;
    }
    if (state.mapcount == 1
        && state.pins == 0
        && state.gatherRefs == 0
        && state.transientRefs == 0) {
      state.exclusive = true; // folio_move_anon_rmap + SetPageAnonExclusive
      tracked.remove(pfn);
      return Reuse.ONLY_REFERENCE;
    }
    return Reuse.NO;
  }

  /** How a write fault on a write-protected anonymous page ended. */
  public enum Reuse {
    /** The page carried the exclusive marker: reused without looking at any count. */
    EXCLUSIVE,
    /** Not marked, but this mapping held the only reference: reused and marked again. */
    ONLY_REFERENCE,
    /** Shared or referenced elsewhere: the fault copies it. */
    NO
  }

  /** Whether {@code pfn} carries the exclusive marker (an untracked page does). */
  public boolean exclusive(long pfn) {
    State state = tracked.get(pfn);
    return state == null || state.exclusive;
  }

  /** Whether a GUP pin holds {@code pfn}. */
  public boolean pinned(long pfn) {
    State state = tracked.get(pfn);
    return state != null && state.pins > 0;
  }

  /** PTEs mapping {@code pfn} (1 for an untracked page). */
  public int mapcount(long pfn) {
    State state = tracked.get(pfn);
    return state == null ? 1 : state.mapcount;
  }

  /**
   * A COW copy replaced this mapping of {@code pfn} (the old page's rmap and reference dropped
   * after the flush).
   *
   * @return whether nothing references the page any more, so the caller frees it
   */
  public boolean unmapAfterCopy(long pfn) {
    State state = tracked.get(pfn);
    if (state == null) {
      return true;
    }
    state.mapcount--;
    return releaseIfUnreferenced(pfn, state);
  }

  /**
   * A zap cleared a PTE mapping {@code pfn} and queued the page on an mmu_gather, which releases it
   * after its flush ({@link #releaseGatherRef}).
   */
  public void unmapForGather(long pfn) {
    State state = tracked.get(pfn);
    if (state != null) {
      state.mapcount--;
      state.gatherRefs++;
    }
  }

  /**
   * The gather that queued {@code pfn} flushed and drops its reference.
   *
   * @return whether nothing references the page any more, so the caller frees it
   */
  public boolean releaseGatherRef(long pfn) {
    State state = tracked.get(pfn);
    if (state == null) {
      return true;
    }
    state.gatherRefs--;
    return releaseIfUnreferenced(pfn, state);
  }

  /** A GUP pin takes a reference on the mapped page {@code pfn} ({@code FOLL_PIN}). */
  public void pin(long pfn) {
    tracked.computeIfAbsent(pfn, key -> new State()).pins++;
  }

  /**
   * {@code unpin_user_page}.
   *
   * @return whether nothing references the page any more, so the caller frees it
   */
  public boolean unpin(long pfn) {
    State state = tracked.get(pfn);
    if (state == null || state.pins == 0) {
      throw new IllegalStateException("frame 0x" + Long.toHexString(pfn) + " is not pinned");
    }
    state.pins--;
    return afterReferenceDropped(pfn, state);
  }

  /**
   * A short-lived reference on the mapped page {@code pfn} ({@code folio_try_get} on a page the
   * caller found through a page-table entry): the page outlives every unmap until {@link #put}.
   */
  public void get(long pfn) {
    tracked.computeIfAbsent(pfn, key -> new State()).transientRefs++;
  }

  /**
   * {@code folio_put} of a reference {@link #get} took.
   *
   * @return whether nothing references the page any more, so the caller frees it
   */
  public boolean put(long pfn) {
    State state = tracked.get(pfn);
    if (state == null || state.transientRefs == 0) {
      throw new IllegalStateException("frame 0x" + Long.toHexString(pfn) + " holds no reference");
    }
    state.transientRefs--;
    return afterReferenceDropped(pfn, state);
  }

  // a page back in the plain state needs no tracking; one nothing references is to be freed
  private boolean afterReferenceDropped(long pfn, State state) {
    if (state.plain()) {
      tracked.remove(pfn);
      return false;
    }
    return releaseIfUnreferenced(pfn, state);
  }

  private boolean releaseIfUnreferenced(long pfn, State state) {
    if (state.unreferenced()) {
      tracked.remove(pfn);
      return true;
    }
    return false;
  }

  /**
   * Whether {@code pfn} is a plain anonymous base page (mapped once, exclusive, no pin or other
   * reference, not a huge page), which NUMA balancing may migrate.
   */
  public boolean migratable(long pfn) {
    return tracked.get(pfn) == null && !hugeHeads.contains(pfn);
  }

  /** Pages tracked because they are shared, pinned, or were shared (not exclusive). */
  public int tracked() {
    return tracked.size();
  }
}
