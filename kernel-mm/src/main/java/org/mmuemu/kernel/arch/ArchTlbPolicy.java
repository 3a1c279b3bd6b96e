package org.mmuemu.kernel.arch;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.mm.Mm;

/**
 * Linux's per-architecture TLB policy: which invalidations a flush issues, when a range flush
 * becomes a whole-space flush, whether other cores are reached by broadcast instructions or by
 * IPIs, and how an address space gets its tag on a context switch.
 *
 * <p>Implementations live in {@code kernel.arch.<isa>} and reach the hardware only through
 * emulator-core's machine interfaces. Each records the latency of every flush it performs in the
 * run's statistics, under the Linux function's name ({@code flush_tlb_range}, ...). Confined to the
 * simulation thread.
 */
public interface ArchTlbPolicy {

  /**
   * Charges the software of one user flush call on its initiator (kernel costs {@code
   * tlbFlushCallCycles} and {@code tlbFlushCallColdCycles}); nothing when it is 0.
   *
   * <p>{@code // MODEL:} one fixed cost per call: mmuemu has no data-cache model, so the call's
   * cost does not depend on whether its cache lines (the mm's generation, its cpumask) are hot.
   */
  static void chargeFlushCall(Machine machine, int core, long cycles) {
    if (cycles > 0) {
      machine.charge(core, cycles);
    }
  }

  /**
   * Makes {@code core} run {@code next} (Linux {@code switch_mm}); {@code previous} may be null.
   */
  void switchMm(int core, Mm previous, Mm next);

  /**
   * Invalidates every translation of {@code mm}'s user range {@code [startVa, endVa)} on every core
   * that may cache it (Linux {@code flush_tlb_range}), and returns when that is complete.
   *
   * @param strideShift log2 of the mapping size in the range (12 for base pages)
   * @param lastLevel only leaf entries changed (no page table was freed), so walk-cache entries may
   *     stay
   */
  void flushTlbRange(int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel);

  /** Invalidates every translation of {@code mm} everywhere (Linux {@code flush_tlb_mm}). */
  void flushTlbMm(int core, Mm mm);

  /**
   * Invalidates kernel translations of {@code [startVa, endVa)} on every core (Linux {@code
   * flush_tlb_kernel_range}).
   */
  void flushTlbKernelRange(int core, long startVa, long endVa);

  /**
   * {@code core} runs no user task any more and switches to its idle task, keeping the mm it had
   * (Linux {@code enter_lazy_tlb}). Default: nothing to do.
   */
  default void enterLazyTlb(int core) {}

  /**
   * Completes the user flushes {@code core} issued without waiting for them (variant {@code
   * tlbFlushWait=none}: arm64's {@code DSB ISH}, x86's wait for IPI acknowledgements or its {@code
   * TLBSYNC}). mmu_gather calls it after freeing the pages its flush covered. With Linux's
   * behaviour nothing is ever owed and this does nothing.
   */
  default void completeDeferredFlush(int core) {}

  /**
   * Reclaim cleared the user PTE mapping {@code va} in {@code mm} ({@code try_to_unmap_one}): the
   * flush that must complete before the page is freed. The default flushes the page now ({@code
   * ptep_clear_flush}); an arch with batched unmap flushing ({@code
   * ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH}) may only start it ({@code arch_tlbbatch_add_pending}) and
   * complete every started one in {@link #reclaimUnmapFlushWait}.
   */
  default void reclaimUnmapFlush(int core, Mm mm, long va) {
    int pageShift = PhysicalMemory.FRAME_SHIFT;
    long pageVa = va & -(1L << pageShift);
    flushTlbRange(core, mm, pageVa, pageVa + (1L << pageShift), pageShift, true);
  }

  /**
   * Completes the reclaim flushes {@code core} started ({@code try_to_unmap_flush}, {@code
   * arch_tlbbatch_flush}), before reclaim frees the pages. Default: nothing was deferred.
   */
  default void reclaimUnmapFlushWait(int core) {}

  /**
   * The flush half of {@code ptep_clear_flush_young}: reclaim's rmap walk ({@code
   * folio_referenced_one}) found the user PTE mapping {@code va} in {@code mm} young and cleared
   * its accessed flag. Until a TLB entry for it goes, accesses through that entry do not set the
   * flag again (only walks do), so the page may look unreferenced while in use. The default is
   * Linux's generic one ({@code mm/pgtable-generic.c}): flush the page now, waiting for it.
   */
  default void youngClearedFlush(int core, Mm mm, long va) {
    int pageShift = PhysicalMemory.FRAME_SHIFT;
    long pageVa = va & -(1L << pageShift);
    flushTlbRange(core, mm, pageVa, pageVa + (1L << pageShift), pageShift, true);
  }

  /**
   * Whether one mmu_gather may accumulate the ranges of several VMAs into one flush (Linux {@code
   * CONFIG_MMU_GATHER_MERGE_VMAS}, which x86 selects). Without it (the default, as on arm64) {@code
   * tlb_end_vma} flushes what the gather holds at the end of every VMA of a partial teardown, so a
   * range never spans the hole between two VMAs and the table flush of {@code free_pgtables} comes
   * separately, with its own stride.
   */
  default boolean mergesVmas() {
    return false;
  }

  /**
   * The arch {@code tlb_flush} of an mmu_gather. The default is Linux's generic one
   * (include/asm-generic/tlb.h), which x86 uses: fullmm or need_flush_all flush the whole mm,
   * otherwise the accumulated range is flushed, leaf-only unless tables were freed. arm64 overrides
   * it (fullmm skips the flush unless tables were freed, DOMAIN.md §3.6).
   */
  default void tlbFlush(int core, Mm mm, TlbGatherFlush gather) {
    if (gather.fullmm() || gather.needFlushAll()) {
      flushTlbMm(core, mm);
    } else if (gather.endVa() != 0) {
      flushTlbRange(
          core, mm, gather.startVa(), gather.endVa(), gather.strideShift(), !gather.freedTables());
    }
  }
}
