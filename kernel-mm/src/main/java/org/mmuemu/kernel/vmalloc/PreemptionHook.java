package org.mmuemu.kernel.vmalloc;

import java.util.List;
import org.mmuemu.core.machine.Machine;

/**
 * Called at the named points where Linux's mm code leaves a window open to other CPUs (DOMAIN.md
 * §2, §3.5-3.7, §1.7): between two steps that another CPU may see apart. Race scenarios and tests
 * install a hook to run another core's work there; by default nothing happens, and in every run
 * each point is an ordinary interleaving point of the scheduler.
 *
 * <p>Every point's name is a constant here, listed in {@link #POINTS}; a scenario addresses a point
 * by that name.
 */
@FunctionalInterface
public interface PreemptionHook {
  /** A hook that does nothing. */
  PreemptionHook NONE = (point, core) -> {};

  /**
   * {@code free_vmap_area_noflush}: the lazily freed area is published to purgers; with {@code
   * lazyFreePublishOrder=racy} it is accounted (its size read) only after this point (DOMAIN.md
   * §2.5).
   */
  String LAZY_PUBLISHED = "free_vmap_area_noflush:published";

  /**
   * {@code zap_pte_range} after a PTE table's lock was dropped, its gather still open ({@code
   * zap_pmd_range}'s {@code cond_resched}): the window of concurrent zaps (§3.7) before {@code
   * tlb_finish_mmu}.
   */
  String ZAP_PTE_UNLOCKED = "zap_pte_range:unlocked";

  /**
   * {@code zap_pte_range} under the PTE table's lock, after a dirty file PTE was cleared and its
   * page queued and before the table's TLB flush: with {@code rmapRemoval=immediate} the page's
   * rmap is already gone here, so writeback's {@code folio_mkclean} neither waits nor flushes
   * (§3.5).
   */
  String ZAP_PTE_DIRTY_CLEARED = "zap_pte_range:dirty_cleared";

  /**
   * {@code vb_free}: the block's range was unmapped and marked dirty, not yet flushed; only {@code
   * vm_unmap_aliases} or the purge of the freed block flushes it (§2.1).
   */
  String VB_FREE_DIRTY = "vb_free:dirty";

  /**
   * A software page-table walker ({@code ptdump}) read a kernel PUD entry that points at a PMD
   * table and has not read that table yet (§1.7, the 2025 ptdump fix).
   */
  String PTDUMP_PUD_READ = "ptdump:pud_read";

  /**
   * {@code ptdump} read a kernel PMD entry that points at a PTE table and has not read that table
   * yet: the table {@code pmd_free_pte_page} may free under it.
   */
  String PTDUMP_PMD_READ = "ptdump:pmd_read";

  /**
   * {@code pmd_free_pte_page} (and {@code pud_free_pmd_page}): the entry was cleared and its walk
   * caches flushed; the table is not freed yet (arm64 with {@code ptdumpSync=staticKey} waits for a
   * running ptdump first).
   */
  String PMD_FREE_PTE_PAGE = "pmd_free_pte_page:cleared";

  /**
   * {@code remove_device_exclusive_entry}: a CPU fault read a device-exclusive entry and, with
   * {@code deviceExclusiveRef=get}, took its page reference; the page is not locked yet (the lock
   * may sleep while another fault on the same entry holds it).
   */
  String DEVICE_EXCLUSIVE_ENTRY_READ = "remove_device_exclusive_entry:entry_read";

  /** Every named point, in the order of the constants above. */
  List<String> POINTS =
      List.of(
          LAZY_PUBLISHED,
          ZAP_PTE_UNLOCKED,
          ZAP_PTE_DIRTY_CLEARED,
          VB_FREE_DIRTY,
          PTDUMP_PUD_READ,
          PTDUMP_PMD_READ,
          PMD_FREE_PTE_PAGE,
          DEVICE_EXCLUSIVE_ENTRY_READ);

  /**
   * @param point the point's name (one of the constants here)
   * @param core the core that reached it
   */
  void reached(String point, int core);

  /**
   * {@code core} reaches the named preemption {@code point}: this hook runs, then the point is an
   * interleaving point of the scheduler like any other.
   */
  default void preempt(Machine machine, String point, int core) {
    reached(point, core);
    machine.preemptionPoint(core, point);
  }
}
