package org.mmuemu.kernel.gather;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.TlbGatherFlush;
import org.mmuemu.kernel.mm.Mm;

/**
 * One teardown batch of a user address space (Linux {@code struct mmu_gather}, mm/mmu_gather.c and
 * include/asm-generic/tlb.h; DOMAIN.md §3): the caller unhooks entries and reports them here; the
 * gather accumulates the range to invalidate and holds the pages and page-table pages until the
 * arch {@code tlb_flush} covering them has completed on every core, so the order is always
 * <em>unhook, invalidate, free</em> (invariants I3 and I4).
 *
 * <h3>Life cycle</h3>
 *
 * {@link #begin} ({@code tlb_gather_mmu}, or {@code tlb_gather_mmu_fullmm} with fullmm) raises the
 * mm's {@code tlb_flush_pending}; {@link #recordCleared} ({@code tlb_flush_pte_range} and friends)
 * widens {@code [start, end)} and sets the level's {@code cleared_*} bit; {@link #removePage}
 * ({@code __tlb_remove_folio_pages_size}) queues a page and says when the caller must flush because
 * the batches are full; {@link #removeTable} ({@code tlb_remove_table} via {@code pte_free_tlb})
 * queues a page-table page and sets {@code freed_tables}; {@link #flushTlbOnly}, {@link
 * #flushRmaps}, {@link #flushMmu} and {@link #finish} ({@code tlb_finish_mmu}) do the rest.
 *
 * <h3>Batches</h3>
 *
 * The embedded batch holds {@link #MMU_GATHER_BUNDLE} slots; extra batches are pages ({@link
 * #MAX_GATHER_BATCH} slots each, at most {@link #MAX_GATHER_BATCH_COUNT} of them) taken from the
 * page allocator and returned at {@link #finish}. A batch counts as full one slot early (Linux
 * keeps room for a two-slot multi-page entry), and once a delayed-rmap page is queued no batch
 * beyond the first extra one is used (only the embedded and the active batch are walked by {@code
 * tlb_flush_rmaps}). Page-table pages go to a separate batch page of {@link #MAX_TABLE_BATCH}
 * entries, flushed (TLB first) when full.
 *
 * <h3>Nested gathers (DOMAIN.md §3.7)</h3>
 *
 * With {@code nestedFlush} (the 2017 fix, the default), {@link #finish} sees another gather pending
 * on the same mm and turns its flush into a whole-mm flush with {@code freed_tables} set. Without
 * it (the bug), a gather that cleared nothing flushes nothing, although another thread's cleared
 * entries may still be cached.
 *
 * <p>Counters: {@code mmuGatherFlushes}, {@code mmuGatherBatchFullFlushes} (forced by full
 * batches), {@code mmuGatherBatchPages} (extra batch pages allocated), {@code
 * mmuGatherNestedFlushes}, {@code pageTablesFreed}.
 *
 * <p>{@code // MODEL:} page-table pages are freed right after the flush, with no RCU grace period:
 * the period protects lockless software walkers (gup_fast), which are not modelled; hardware
 * walkers are covered by the flush. Pages are base pages (no multi-page entries, no {@code
 * tlb_change_page_size}). No VM_PFNMAP handling. Confined to the simulation thread.
 */
public final class MmuGather {
  /** Slots of the embedded batch ({@code MMU_GATHER_BUNDLE}). */
  public static final int MMU_GATHER_BUNDLE = 8;

  /** Slots of an extra batch page: (4096 - 16) / 8. */
  public static final int MAX_GATHER_BATCH = 510;

  /** Extra batches before a forced flush: 10000 / MAX_GATHER_BATCH. */
  public static final int MAX_GATHER_BATCH_COUNT = 10_000 / MAX_GATHER_BATCH;

  /** Page-table pages per table batch, with an RCU head: (4096 - 24) / 8. */
  public static final int MAX_TABLE_BATCH = 509;

  private static final long DELAY_RMAP_BIT = 1;

  /** What happens to queued pages: the kernel's page release and rmap. */
  public interface PageOwner {
    /**
     * Drops the gather's reference to {@code pfn} after the flush (frees it unless the page cache
     * keeps it).
     */
    void releasePage(int core, long pfn);

    /**
     * Removes the delayed rmap of {@code pfn} mapped at {@code va} in {@code mm} (after the flush).
     */
    void removeRmap(int core, long pfn, Mm mm, long va);
  }

  private static final int INITIAL_SLOTS = 64;

  // Storage of a batch, twice as long (at most max slots): batches start small and grow as queued.
  private static long[] grown(long[] slots, int max) {
    return java.util.Arrays.copyOf(slots, Math.min(max, slots.length * 2));
  }

  private static final class Batch {
    final long framePfn; // the batch's own page, -1 for the embedded batch
    final int max;
    long[] encoded;
    long[] vas;
    int nr;

    Batch(long framePfn, int max) {
      this.framePfn = framePfn;
      this.max = max;
      // Storage grows as pages are queued: most gathers queue a few dozen pages, and two full-size
      // arrays per batch were a sizeable share of a process exit's host time.
      int initial = Math.min(max, INITIAL_SLOTS);
      this.encoded = new long[initial];
      this.vas = new long[initial];
    }

    void add(long encodedPage, long va) {
      if (nr == encoded.length) {
        encoded = grown(encoded, max);
        vas = grown(vas, max);
      }
      encoded[nr] = encodedPage;
      vas[nr] = va;
      nr++;
    }
  }

  private final Machine machine;
  private final PageTableFormat format;
  private final ArchTlbPolicy policy;
  private final PageOwner owner;
  private final boolean nestedFlush;
  private final long pageFreeCycles;
  private final long pageAllocCycles;
  private final int core;
  private final Mm mm;
  private boolean fullmm;
  private boolean needFlushAll;
  private boolean freedTables;
  private boolean delayedRmap;
  private int clearedLevels;
  private long startVa;
  private long endVa;
  private final List<Batch> batches = new ArrayList<>();
  private int active;
  private long tableBatchPfn = -1;
  // Allocated with the first table queued: most gathers free no page table.
  private long[] tables;
  private int tableCount;
  private boolean finished;
  private long flushes;
  private long finishStartedCycle = -1;
  private long pagesReleased;

  private MmuGather(
      Machine machine,
      ArchTlbPolicy policy,
      PageOwner owner,
      boolean nestedFlush,
      long pageAllocCycles,
      long pageFreeCycles,
      int core,
      Mm mm,
      boolean fullmm) {
    this.machine = machine;
    this.format = machine.format();
    this.policy = policy;
    this.owner = owner;
    this.nestedFlush = nestedFlush;
    this.pageAllocCycles = pageAllocCycles;
    this.pageFreeCycles = pageFreeCycles;
    this.core = core;
    this.mm = mm;
    this.fullmm = fullmm;
    batches.add(new Batch(-1, MMU_GATHER_BUNDLE));
    resetRange();
    mm.incTlbFlushPending();
  }

  /**
   * Starts a gather on {@code mm} ({@code tlb_gather_mmu}; {@code tlb_gather_mmu_fullmm} when
   * {@code fullmm}).
   *
   * @param nestedFlush whether {@link #finish} flushes the whole mm when another gather is pending
   */
  public static MmuGather begin(
      Machine machine,
      ArchTlbPolicy policy,
      PageOwner owner,
      boolean nestedFlush,
      long pageAllocCycles,
      long pageFreeCycles,
      int core,
      Mm mm,
      boolean fullmm) {
    return new MmuGather(
        machine, policy, owner, nestedFlush, pageAllocCycles, pageFreeCycles, core, mm, fullmm);
  }

  public Mm mm() {
    return mm;
  }

  public int core() {
    return core;
  }

  public boolean fullmm() {
    return fullmm;
  }

  public boolean freedTables() {
    return freedTables;
  }

  /**
   * Bit {@code L} set: an entry at table level {@code L} (0 = root) was cleared since the last
   * flush.
   */
  public int clearedLevels() {
    return clearedLevels;
  }

  public long startVa() {
    return startVa;
  }

  /** End of the accumulated range; 0 when nothing is recorded. */
  public long endVa() {
    return endVa;
  }

  /** Pages queued and not yet released. */
  public int queuedPages() {
    int count = 0;
    for (Batch batch : batches) {
      count += batch.nr;
    }
    return count;
  }

  /** Page-table pages queued and not yet freed. */
  public int queuedTables() {
    return tableCount;
  }

  /** Extra batch pages allocated ({@code batch_count}). */
  public int extraBatches() {
    return batches.size() - 1;
  }

  /** The cycle {@link #finish} began its final flush at, or -1 before it did. */
  public long finishStartedCycle() {
    return finishStartedCycle;
  }

  /** Arch flushes done so far by this gather. */
  public long flushes() {
    return flushes;
  }

  /** Sets {@code need_flush_all}: the arch wants a whole-mm flush. */
  public void setNeedFlushAll() {
    needFlushAll = true;
  }

  private void resetRange() {
    if (fullmm) {
      startVa = -1L;
      endVa = -1L;
    } else {
      startVa = -1L;
      endVa = 0;
    }
    clearedLevels = 0;
    freedTables = false;
  }

  /**
   * Records that entries covering {@code [va, va + sizeBytes)} at table level {@code level} were
   * cleared ({@code tlb_flush_pte_range}, {@code _pmd_}, {@code _pud_}, {@code _p4d_}).
   */
  public void recordCleared(long va, long sizeBytes, int level) {
    checkOpen();
    if (Long.compareUnsigned(va, startVa) < 0) {
      startVa = va;
    }
    if (!fullmm && Long.compareUnsigned(va + sizeBytes, endVa) > 0) {
      endVa = va + sizeBytes;
    }
    clearedLevels |= 1 << level;
  }

  /**
   * Queues {@code pfn}, whose entry at {@code va} was cleared and recorded, for release after the
   * flush ({@code __tlb_remove_folio_pages_size}).
   *
   * @param delayRmap remove its rmap only after the TLB flush ({@code ENCODED_PAGE_BIT_DELAY_RMAP})
   * @return true when the batches are full and the caller must flush ({@link #flushMmu}) now
   * @throws IllegalStateException when no range was recorded first
   */
  public boolean removePage(long pfn, long va, boolean delayRmap) {
    checkOpen();
    if (endVa == 0) {
      throw new IllegalStateException(
          "mmu_gather: page 0x" + Long.toHexString(pfn) + " queued with no range recorded");
    }
    Batch batch = batches.get(active);
    batch.add(pfn << 1 | (delayRmap ? DELAY_RMAP_BIT : 0), va);
    if (delayRmap) {
      delayedRmap = true;
    }
    if (batch.nr >= batch.max - 1) {
      return !nextBatch();
    }
    return false;
  }

  // tlb_next_batch
  private boolean nextBatch() {
    if (delayedRmap && active != 0) {
      return false;
    }
    if (active + 1 < batches.size()) {
      active++;
      return true;
    }
    if (batches.size() - 1 == MAX_GATHER_BATCH_COUNT) {
      return false;
    }
    long framePfn = machine.memory().allocate(FrameKind.KERNEL);
    machine.charge(core, pageAllocCycles);
    machine.stats().addKernelCounter("mmuGatherBatchPages", 1);
    batches.add(new Batch(framePfn, MAX_GATHER_BATCH));
    active++;
    return true;
  }

  /**
   * Queues the page-table page {@code tablePfn}, just unhooked from its parent entry at level
   * {@code parentLevel} for {@code va} ({@code pte_free_tlb} and friends: the range widens by one
   * page at the parent level, {@code freed_tables} is set). A full table batch is flushed (TLB
   * first) at once.
   */
  public void removeTable(long tablePfn, long va, int parentLevel) {
    recordCleared(va, 1L << PhysicalMemory.FRAME_SHIFT, parentLevel);
    freedTables = true;
    if (tableBatchPfn < 0) {
      tableBatchPfn = machine.memory().allocate(FrameKind.KERNEL);
      machine.charge(core, pageAllocCycles);
    }
    // Grown as tables are queued, like the page batches: an exit frees a handful of tables, and a
    // full-size array per gather was most of what freeing them cost on the host.
    if (tables == null) {
      tables = new long[Math.min(MAX_TABLE_BATCH, INITIAL_SLOTS)];
    } else if (tableCount == tables.length) {
      tables = grown(tables, MAX_TABLE_BATCH);
    }
    tables[tableCount++] = tablePfn;
    if (tableCount == MAX_TABLE_BATCH) {
      tableFlush();
    }
  }

  /**
   * The arch flush of what was recorded, then the range and level bits reset ({@code
   * tlb_flush_mmu_tlbonly}); nothing when nothing was cleared.
   */
  public void flushTlbOnly() {
    checkOpen();
    if (!freedTables && clearedLevels == 0) {
      return;
    }
    policy.tlbFlush(
        core,
        mm,
        new TlbGatherFlush(fullmm, needFlushAll, freedTables, startVa, endVa, unmapShift()));
    flushes++;
    machine.stats().addKernelCounter("mmuGatherFlushes", 1);
    resetRange();
  }

  /**
   * The end of one VMA's unmap ({@code tlb_end_vma}): unless the arch merges VMAs ({@link
   * ArchTlbPolicy#mergesVmas}) or the whole mm is going, flushes what was recorded so far, so the
   * next VMA (or {@code free_pgtables}) starts a fresh range. Counter: {@code tlbEndVmaFlushes}.
   */
  public void endVma() {
    checkOpen();
    if (fullmm || policy.mergesVmas() || (!freedTables && clearedLevels == 0)) {
      return;
    }
    machine.stats().addKernelCounter("tlbEndVmaFlushes", 1);
    flushTlbOnly();
  }

  /** log2 of the smallest level cleared ({@code tlb_get_unmap_shift}). */
  int unmapShift() {
    for (int level = format.levels() - 1; level >= 0; level--) {
      if ((clearedLevels & (1 << level)) != 0) {
        return format.levelShift(level);
      }
    }
    return format.pageShift();
  }

  /**
   * Removes the rmap of every delayed page in the embedded and the active batch ({@code
   * tlb_flush_rmaps}). Must follow {@link #flushTlbOnly}: until the flush completed the page stays
   * visible to {@code folio_mkclean} (DOMAIN.md §3.5).
   *
   * @throws IllegalStateException when a cleared range is still unflushed
   */
  public void flushRmaps() {
    checkOpen();
    if (!delayedRmap) {
      return;
    }
    if (clearedLevels != 0 || freedTables) {
      throw new IllegalStateException("mmu_gather: delayed rmaps removed before the TLB flush");
    }
    removeDelayedRmaps(batches.get(0));
    if (active != 0) {
      removeDelayedRmaps(batches.get(active));
    }
    delayedRmap = false;
  }

  private void removeDelayedRmaps(Batch batch) {
    for (int i = 0; i < batch.nr; i++) {
      if ((batch.encoded[i] & DELAY_RMAP_BIT) != 0) {
        owner.removeRmap(core, batch.encoded[i] >>> 1, mm, batch.vas[i]);
        batch.encoded[i] &= ~DELAY_RMAP_BIT;
      }
    }
  }

  /**
   * Flush, then free the queued tables and release the queued pages ({@code tlb_flush_mmu}). With
   * {@code tlbFlushWait=none} the arch flush returned before it completed, and the wait for it
   * comes only after the frees.
   */
  public void flushMmu() {
    flushTlbOnly();
    tableFlush();
    batchPagesFlush();
    policy.completeDeferredFlush(core);
  }

  /** Counts a flush the caller does because {@link #removePage} said the batches are full. */
  public void batchFullFlush() {
    machine.stats().addKernelCounter("mmuGatherBatchFullFlushes", 1);
    flushMmu();
  }

  // tlb_table_flush: invalidate first (tlb_table_invalidate), then free the batch.
  private void tableFlush() {
    if (tableCount == 0) {
      return;
    }
    flushTlbOnly();
    for (int i = 0; i < tableCount; i++) {
      machine.memory().free(tables[i]);
      machine.charge(core, pageFreeCycles);
    }
    machine.stats().addKernelCounter("pageTablesFreed", tableCount);
    tableCount = 0;
    machine.memory().free(tableBatchPfn);
    tableBatchPfn = -1;
  }

  // tlb_batch_pages_flush
  private void batchPagesFlush() {
    if (delayedRmap) {
      // Linux flushes delayed rmaps before dropping the PTE lock; a caller that did not owes it
      // now.
      flushRmaps();
    }
    for (int b = 0; b <= active; b++) {
      Batch batch = batches.get(b);
      for (int i = 0; i < batch.nr; i++) {
        owner.releasePage(core, batch.encoded[i] >>> 1);
      }
      pagesReleased += batch.nr;
      batch.nr = 0;
    }
    active = 0;
  }

  /** Pages released so far. */
  public long pagesReleased() {
    return pagesReleased;
  }

  /**
   * Ends the gather ({@code tlb_finish_mmu}): with another gather pending on the mm (and the
   * nested-flush fix), a whole-mm flush with {@code freed_tables}; then the final flush, the frees,
   * the extra batch pages returned and the mm's pending count lowered.
   */
  public void finish() {
    checkOpen();
    machine.interleave(core, "tlb_finish_mmu"); // tlb_flush_pending is read as other CPUs stand now
    finishStartedCycle = machine.now(core);
    if (nestedFlush && mm.tlbFlushPending() > 1) {
      fullmm = true;
      resetRange();
      freedTables = true;
      machine.stats().addKernelCounter("mmuGatherNestedFlushes", 1);
    }
    flushMmu();
    for (int b = 1; b < batches.size(); b++) {
      machine.memory().free(batches.get(b).framePfn);
    }
    batches.subList(1, batches.size()).clear();
    mm.decTlbFlushPending();
    finished = true;
  }

  private void checkOpen() {
    if (finished) {
      throw new IllegalStateException("mmu_gather used after tlb_finish_mmu");
    }
  }
}
