package org.mmuemu.kernel;

import static org.mmuemu.kernel.UnsignedVa.max;
import static org.mmuemu.kernel.UnsignedVa.min;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.SwapPte;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.VmaLocking;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.oracle.RangeFlushOracle;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.AnonPages;
import org.mmuemu.kernel.rmap.ReverseMap;
import org.mmuemu.kernel.vmalloc.PreemptionHook;

/**
 * Unmap and teardown through mmu_gather (Linux mm/memory.c {@code unmap_page_range}, {@code
 * zap_pte_range}, {@code free_pgtables}; mm/mmap.c {@code unmap_region}, {@code exit_mmap};
 * mm/madvise.c; mm/oom_kill.c {@code __oom_reap_task_mm}; see docs/mm.md). An entry of a zero page
 * ({@link ZeroPfns}) is cleared and flushed like any other, but no page goes on the gather: {@code
 * vm_normal_page} is NULL for it, so nothing is freed. Confined to the simulation thread.
 */
final class Teardown {
  private static final KernelOperation OP_MUNMAP = KernelOperation.named("munmap");
  private static final KernelOperation OP_MADVISE = KernelOperation.named("madvise");
  private static final KernelOperation OP_EXIT_MMAP = KernelOperation.named("exit_mmap");
  private static final KernelOperation OP_OOM_REAP = KernelOperation.named("oom_reap");

  private final Machine machine;
  private final KernelConfig config;
  private final KernelCosts costs;
  private final ArchTlbPolicy tlbPolicy;
  private final ArchUserPtes userPtes;
  private final PageCache pageCache;
  private final ReverseMap rmap;
  private final AnonPages anonPages;
  private final HugePmd hugePmd;
  private final Processes processes;
  private final RangeFlushOracle flushOracle;
  private final VmaLocking vmaLocking;
  private final ZeroPfns zeroPfns;
  private final long userSpaceEndVa;
  private final boolean delayedRmap;
  private final boolean nestedFlush;
  private PreemptionHook preemptionHook = PreemptionHook.NONE;
  private long pagesFreed;

  Teardown(
      Machine machine,
      KernelConfig config,
      ArchTlbPolicy tlbPolicy,
      ArchUserPtes userPtes,
      PageCache pageCache,
      ReverseMap rmap,
      AnonPages anonPages,
      HugePmd hugePmd,
      Processes processes,
      RangeFlushOracle flushOracle,
      VmaLocking vmaLocking,
      ZeroPfns zeroPfns,
      long userSpaceEndVa) {
    this.machine = machine;
    this.config = config;
    this.costs = config.costs();
    this.tlbPolicy = tlbPolicy;
    this.userPtes = userPtes;
    this.pageCache = pageCache;
    this.rmap = rmap;
    this.anonPages = anonPages;
    this.hugePmd = hugePmd;
    this.processes = processes;
    this.flushOracle = flushOracle;
    this.vmaLocking = vmaLocking;
    this.zeroPfns = zeroPfns;
    this.userSpaceEndVa = userSpaceEndVa;
    this.delayedRmap = config.variants().rmapRemoval() == KernelVariants.RmapRemoval.DELAYED;
    this.nestedFlush =
        config.variants().madviseFlushBatching()
            == KernelVariants.MadviseFlushBatching.FLUSH_NESTED;
  }

  void setPreemptionHook(PreemptionHook hook) {
    this.preemptionHook = hook;
  }

  /** Pages freed by teardown so far (the counter {@code pagesFreed}). */
  long pagesFreed() {
    return pagesFreed;
  }

  /**
   * Unmaps {@code [startVa, endVa)} (Linux {@code munmap} / {@code unmap_region}): one mmu_gather
   * over the range; every present leaf is cleared and recorded, its page queued; page-table pages
   * that no remaining VMA needs (between the neighbouring VMAs, Linux's floor and ceiling) are
   * unhooked and queued too; {@code tlb_finish_mmu} flushes and only then frees pages and tables
   * (invariants I3, I4). On return no core running {@code mm} may still translate the range ({@code
   * UNFLUSHED_ALIAS}, as for madvise).
   */
  public void munmap(int core, Mm mm, long startVa, long endVa) {
    long start = OP_MUNMAP.begin(machine, core, startVa);
    vmaLocking.mmapWriteLock(core, mm);
    long floor = 0;
    long ceiling = userSpaceEndVa;
    List<Vma> unmapped = new ArrayList<>();
    for (Vma vma : mm.vmas()) {
      if (Long.compareUnsigned(vma.endVa(), startVa) <= 0) {
        floor = vma.endVa();
      } else if (Long.compareUnsigned(vma.startVa(), endVa) >= 0) {
        ceiling = vma.startVa();
        break;
      } else {
        unmapped.add(vma);
      }
    }
    for (Vma vma : unmapped) {
      vmaLocking.vmaStartWrite(core, mm, vma); // before it is split or detached
    }
    mm.removeRange(startVa, endVa);
    // The VMAs are detached, so no fault can reach them: zap and free_pgtables (mm_wr_locked
    // false) run under the read lock, and the downgrade ends every VMA write lock
    vmaLocking.mmapWriteDowngrade(core, mm);
    MmuGather tlb = gather(core, mm, false);
    for (Vma vma : unmapped) {
      unmapVmaRange(tlb, vma, max(vma.startVa(), startVa), min(vma.endVa(), endVa));
    }
    if (!unmapped.isEmpty()) {
      long first = max(unmapped.get(0).startVa(), startVa);
      long last = min(unmapped.get(unmapped.size() - 1).endVa(), endVa);
      freePgtables(tlb, first, last, floor, ceiling);
    }
    tlb.finish();
    flushOracle.checkRangeFlushed(core, mm, startVa, endVa, "munmap", tlb.finishStartedCycle());
    mm.mmapLock().upRead(machine, core);
    OP_MUNMAP.end(machine, core, startVa, start);
  }

  /**
   * {@code madvise(MADV_DONTNEED)} over {@code [startVa, endVa)}: the VMAs stay, their pages go
   * (zap_page_range_single under the mmap read lock: one gather, page tables kept). When it
   * returns, the range must fault afresh on every core, so afterwards no TLB of a core running
   * {@code mm} may still translate an address of the range whose entry is gone (DOMAIN.md §3.7;
   * reported as {@code UNFLUSHED_ALIAS}).
   */
  public void madviseDontneed(int core, Mm mm, long startVa, long endVa) {
    long start = OP_MADVISE.begin(machine, core, startVa);
    mm.mmapLock().downRead(machine, core, costs.lockCycles());
    MmuGather tlb = gather(core, mm, false);
    zapVmas(tlb, mm, startVa, endVa);
    tlb.finish();
    flushOracle.checkRangeFlushed(
        core, mm, startVa, endVa, "madvise(MADV_DONTNEED)", tlb.finishStartedCycle());
    mm.mmapLock().upRead(machine, core);
    OP_MADVISE.end(machine, core, startVa, start);
  }

  /**
   * Zaps the pages of every VMA of {@code mm} in {@code [startVa, endVa)} into an open gather (each
   * through {@link #unmapVmaRange}, so with its arch's {@code tlb_end_vma}).
   */
  public void zapVmas(MmuGather tlb, Mm mm, long startVa, long endVa) {
    for (Vma vma : mm.vmas()) {
      if (Long.compareUnsigned(vma.endVa(), startVa) > 0
          && Long.compareUnsigned(vma.startVa(), endVa) < 0) {
        unmapVmaRange(tlb, vma, max(vma.startVa(), startVa), min(vma.endVa(), endVa));
      }
    }
  }

  /**
   * Tears down the whole address space of an exiting process (Linux {@code exit_mmap} and the final
   * {@code mmdrop}): every core still running {@code mm} leaves it first (x86: lazily), then one
   * fullmm gather unmaps every VMA and frees every page-table page below the root; the root goes
   * last.
   *
   * <p>{@code // MODEL:} the root is freed at once (Linux frees the pgd at the last mmdrop, after
   * lazy users switched away); x86 lazy CPUs are switched to init_mm by the freed-tables flush; on
   * arm64 a core leaving the mm gets an empty TTBR0 table with ASID 0 (Linux's reserved TTBR0 while
   * no user task runs), so no walk can reach the freed tables.
   */
  public void exitMmap(int core, Mm mm) {
    long start = OP_EXIT_MMAP.begin(machine, core, 0);
    for (int other = 0; other < machine.coreCount(); other++) {
      if (processes.currentMm(other) == mm) {
        processes.exitThread(other);
      }
    }
    vmaLocking.mmapWriteLock(core, mm);
    MmuGather tlb = gather(core, mm, true);
    for (Vma vma : mm.vmas()) {
      unmapVmaRange(tlb, vma, vma.startVa(), vma.endVa());
    }
    for (Vma vma : mm.vmas()) {
      vmaLocking.vmaStartWrite(core, mm, vma); // free_pgtables with mm_wr_locked
    }
    freePgtables(tlb, 0, userSpaceEndVa, 0, userSpaceEndVa);
    tlb.finish();
    mm.removeRange(0, userSpaceEndVa);
    vmaLocking.mmapWriteUnlock(core, mm);
    machine.memory().free(mm.rootPfn()); // mmdrop: pgd_free
    machine.charge(core, costs.pageFreeCycles());
    processes.exited(mm);
    OP_EXIT_MMAP.end(machine, core, 0, start);
  }

  /**
   * The OOM reaper's unmap of a victim's memory ({@code __oom_reap_task_mm}) while its threads may
   * still run on other cores. The {@code oomReaperGather} variant decides the gather: {@code
   * perVma} (the fix, 687cb0884a71): one gather per VMA over its range, never fullmm; {@code
   * fullmm} (2017, CVE-2017-18202): one whole-space gather with fullmm set on a live mm, whose
   * flush arm64 skips (DOMAIN.md §3.6). Page tables are kept; shared file mappings are skipped, as
   * Linux skips them.
   *
   * <p>Counter: {@code oomReapedPages}.
   */
  public void oomReap(int core, Mm mm) {
    long start = OP_OOM_REAP.begin(machine, core, 0);
    // MODEL: the reaper waits for mmap_lock for read where Linux's trylock would retry later
    mm.mmapLock().downRead(machine, core, costs.lockCycles());
    long before = pagesFreed;
    if (config.variants().oomReaperGather() == KernelVariants.OomReaperGather.FULLMM) {
      MmuGather tlb = gather(core, mm, true);
      for (Vma vma : mm.vmas()) {
        if (!vma.fileBacked()) {
          unmapVmaRange(tlb, vma, vma.startVa(), vma.endVa());
        }
      }
      tlb.finish();
    } else {
      for (Vma vma : mm.vmas()) {
        if (!vma.fileBacked()) {
          MmuGather tlb = gather(core, mm, false);
          unmapVmaRange(tlb, vma, vma.startVa(), vma.endVa());
          tlb.finish();
        }
      }
    }
    mm.mmapLock().upRead(machine, core);
    machine.stats().addKernelCounter("oomReapedPages", pagesFreed - before);
    OP_OOM_REAP.end(machine, core, 0, start);
  }

  /**
   * Starts an mmu_gather on {@code mm} for {@code core} with this kernel's page release and
   * variants.
   */
  public MmuGather gather(int core, Mm mm, boolean fullmm) {
    return MmuGather.begin(
        machine,
        tlbPolicy,
        pageOwner,
        nestedFlush,
        costs.pageAllocCycles(),
        costs.pageFreeCycles(),
        core,
        mm,
        fullmm);
  }

  private final MmuGather.PageOwner pageOwner =
      new MmuGather.PageOwner() {
        @Override
        public void releasePage(int core, long pfn) {
          CachedPage page = pageCache.byPfn(pfn);
          if (page != null) {
            page.putGatherRef(); // the page cache keeps the page
            return;
          }
          if (hugePmd.releaseHuge(core, pfn)) {
            pagesFreed += 1L << (machine.format().levelShift(hugePmd.pmdLevel()) - 12);
            return;
          }
          if (!anonPages.releaseGatherRef(pfn)) {
            return; // still mapped elsewhere (fork shared it) or pinned
          }
          machine.memory().free(pfn);
          machine.charge(core, costs.pageFreeCycles());
          pagesFreed++;
        }

        @Override
        public void removeRmap(int core, long pfn, Mm mm, long va) {
          rmap.remove(pfn, mm, va);
        }
      };

  /**
   * Linux {@code unmap_page_range} over one VMA: per PTE table, {@code zap_pte_range}; a huge page
   * the range covers whole is zapped at the PMD ({@code zap_huge_pmd}), one it covers in part is
   * split first; then {@code tlb_end_vma} ({@link MmuGather#endVma}), which flushes the VMA's range
   * on arches that do not merge VMAs (arm64) and does nothing on x86.
   *
   * @throws IllegalStateException when a block mapping above the PMD level covers the range
   */
  public void unmapVmaRange(MmuGather tlb, Vma vma, long startVa, long endVa) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
      long table = tlb.mm().rootPfn();
      boolean skipped = false;
      for (int level = 0; level < leafLevel; level++) {
        long descriptor = memory.readDescriptor(table, format.index(va, level));
        if (!format.isValid(descriptor, level)) {
          va = nextBoundary(va, format.levelShift(level));
          skipped = true;
          break;
        }
        if (format.isLeaf(descriptor, level)) {
          if (level != hugePmd.pmdLevel()) {
            throw new IllegalStateException(
                "va 0x"
                    + Long.toHexString(va)
                    + " is mapped by a level-"
                    + level
                    + " block; unmapping blocks is not modelled");
          }
          long blockVa = va & -(1L << format.levelShift(level));
          long blockEnd = nextBoundary(va, format.levelShift(level));
          if (va != blockVa || Long.compareUnsigned(endVa, blockEnd) < 0) {
            hugePmd.split(tlb.core(), tlb.mm(), va);
          } else {
            zapHugePmd(tlb, table, level, blockVa, descriptor);
            va = blockEnd;
          }
          skipped = true;
          break;
        }
        table = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
      }
      if (!skipped) {
        long tableEnd = min(endVa, nextBoundary(va, format.levelShift(leafLevel - 1)));
        va = zapPteRange(tlb, vma, table, va, tableEnd);
        // zap_pmd_range's cond_resched between PTE tables
        preemptionHook.preempt(machine, Kernel.ZAP_PTE_UNLOCKED, tlb.core());
      }
      if (va == 0) {
        break; // wrapped past the top of the address space
      }
    }
    tlb.endVma();
  }

  // zap_huge_pmd under the PMD lock: clear the entry, queue the huge page as one unit (the huge
  // zero page is only flushed)
  private void zapHugePmd(MmuGather tlb, long tablePfn, int level, long blockVa, long descriptor) {
    PageTableFormat format = machine.format();
    machine.charge(tlb.core(), costs.lockCycles());
    machine.memory().writeDescriptor(tablePfn, format.index(blockVa, level), 0L);
    machine.charge(tlb.core(), costs.pteWriteCycles());
    long headPfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    machine.recordMapping(headPfn, blockVa, false);
    tlb.recordCleared(blockVa, 1L << format.levelShift(level), level);
    if (!zeroPfns.isHugeZero(headPfn) && tlb.removePage(headPfn, blockVa, false)) {
      tlb.batchFullFlush();
    }
  }

  private static long nextBoundary(long va, int shift) {
    return (va & -(1L << shift)) + (1L << shift);
  }

  // zap_pte_range under the table's lock; returns where it stopped (early when the batches filled
  // up)
  private long zapPteRange(MmuGather tlb, Vma vma, long tablePfn, long startVa, long endVa) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long pageSize = 1L << PhysicalMemory.FRAME_SHIFT;
    boolean forceFlush = false;
    boolean batchFull = false;
    long va = startVa;
    tlb.mm().pteLock(startVa).acquire(machine, tlb.core(), costs.lockCycles());
    // get_and_clear_full_ptes: a contiguous block the range covers in part is unfolded first;
    // whole blocks are cleared as they are and flushed with the rest
    userPtes.unfoldPartial(tlb.core(), tlb.mm(), startVa, endVa);
    while (Long.compareUnsigned(va, endVa) < 0 && !batchFull) {
      int index = format.index(va, leafLevel);
      long descriptor = memory.readDescriptor(tablePfn, index);
      // a NUMA hinting PROT_NONE entry still maps its page (pte_present)
      if (format.isValid(descriptor, leafLevel) || format.isProtNone(descriptor, leafLevel)) {
        memory.writeDescriptor(tablePfn, index, 0L); // ptep_get_and_clear_full
        machine.charge(tlb.core(), costs.pteWriteCycles());
        long pfn = format.outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT;
        machine.recordMapping(pfn, va, false);
        tlb.recordCleared(va, pageSize, leafLevel);
        boolean delay = false;
        boolean dirtyFilePte = false;
        CachedPage page = pageCache.byPfn(pfn);
        boolean normalPage = !zeroPfns.isZero(pfn); // vm_normal_page: the zero page is not one
        if (page != null) {
          dirtyFilePte = (format.flags(descriptor, leafLevel) & PteFlags.DIRTY) != 0;
          if (dirtyFilePte) {
            page.markDirty(); // folio_mark_dirty from the cleared PTE's dirty bit
            forceFlush = true; // flushed before the PTE lock is dropped, before 6.2 and since
          }
          if (dirtyFilePte && delayedRmap) {
            delay = true; // the rmap goes after that flush (tlb_flush_rmaps)
          } else {
            rmap.remove(pfn, tlb.mm(), va); // page_remove_rmap: folio_mkclean no longer finds it
          }
          page.getGatherRef();
        } else if (normalPage) {
          anonPages.unmapForGather(pfn);
        }
        if (normalPage && tlb.removePage(pfn, va, delay)) {
          forceFlush = true;
          batchFull = true;
        }
        if (dirtyFilePte) {
          // other CPUs run on while this one holds the PTE lock, the flush still to come
          preemptionHook.preempt(machine, PreemptionHook.ZAP_PTE_DIRTY_CLEARED, tlb.core());
        }
      } else if (descriptor != 0) {
        zapNonPresent(tlb, tablePfn, index, descriptor);
      }
      va += pageSize;
    }
    if (batchFull && Long.compareUnsigned(va, endVa) < 0) {
      // MODEL: Linux queues a folio's PTEs as one batch entry, so a full gather never stops a zap
      // inside a contiguous block; here it can, and the rest of the block is unfolded before the
      // lock is dropped, so no walk meets a half-cleared block
      userPtes.unfoldPartial(tlb.core(), tlb.mm(), va, endVa);
    }
    if (forceFlush) {
      tlb.flushTlbOnly(); // before the PTE lock is dropped
      tlb.flushRmaps();
    }
    tlb.mm().pteLock(startVa).release(machine, tlb.core());
    if (batchFull) {
      tlb.batchFullFlush();
    } else if (forceFlush) {
      tlb.flushMmu();
    }
    return va;
  }

  /**
   * {@code zap_pte_range} on a non-present entry ({@link SwapPte}): nothing a TLB caches, so no
   * flush. A device-exclusive entry's page loses this mapping and its reference at once ({@code
   * put_page}, not through the gather) and is freed unless something else still holds it; a pte
   * marker in an anonymous VMA is dropped (the data is gone, so is its protection: UW3).
   */
  private void zapNonPresent(MmuGather tlb, long tablePfn, int index, long entry) {
    machine.memory().writeDescriptor(tablePfn, index, 0L);
    machine.charge(tlb.core(), costs.pteWriteCycles());
    if (SwapPte.isDeviceExclusive(entry)) {
      long pfn = SwapPte.pfn(entry);
      if (anonPages.unmapAfterCopy(pfn)) { // the same drop as after a COW copy: map and reference
        machine.memory().free(pfn);
        machine.charge(tlb.core(), costs.pageFreeCycles());
        pagesFreed++;
      }
    } else if (SwapPte.isMarker(entry)) {
      machine.stats().addKernelCounter("uffdWpMarkersZapped", 1);
    }
  }

  /**
   * Linux {@code free_pgtables} / {@code free_pgd_range} for {@code [startVa, endVa)}: every
   * lower-level table whose whole span lies within {@code [floor, ceiling)} (no remaining VMA can
   * need it) and that holds no valid entry is unhooked and queued on the gather.
   */
  public void freePgtables(MmuGather tlb, long startVa, long endVa, long floor, long ceiling) {
    freeTablesBelow(tlb, tlb.mm().rootPfn(), 0, startVa, endVa, floor, ceiling);
  }

  private void freeTablesBelow(
      MmuGather tlb, long tablePfn, int level, long startVa, long endVa, long floor, long ceiling) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int shift = format.levelShift(level);
    long entrySize = 1L << shift;
    long va = startVa & -entrySize;
    while (Long.compareUnsigned(va, endVa) < 0) {
      int index = format.index(va, level);
      long descriptor = memory.readDescriptor(tablePfn, index);
      if (format.isValid(descriptor, level) && !format.isLeaf(descriptor, level)) {
        long child = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
        if (level + 1 < format.levels() - 1) {
          freeTablesBelow(
              tlb, child, level + 1, max(va, startVa), min(va + entrySize, endVa), floor, ceiling);
        }
        boolean withinBounds =
            Long.compareUnsigned(va, floor) >= 0
                && Long.compareUnsigned(va + entrySize - 1, ceiling - 1) <= 0;
        if (withinBounds && memory.tableEmpty(child)) {
          memory.writeDescriptor(tablePfn, index, 0L);
          machine.charge(tlb.core(), costs.pteWriteCycles());
          tlb.removeTable(child, va, level);
        }
      }
      va += entrySize;
      if (va == 0) {
        break;
      }
    }
  }
}
