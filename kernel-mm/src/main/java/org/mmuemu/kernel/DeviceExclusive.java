package org.mmuemu.kernel;

import java.util.Map;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.SwapPte;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.AnonPages;
import org.mmuemu.kernel.vmalloc.PreemptionHook;

/**
 * Device-exclusive entries (DOMAIN-FAULTS.md §6; Linux mm/rmap.c {@code make_device_exclusive},
 * mm/memory.c {@code remove_device_exclusive_entry}): a driver (HMM, for device atomics) takes an
 * anonymous page away from the CPUs, and a CPU access takes it back.
 *
 * <p>{@link #make}: per page, fault it in for a write if it is missing or the zero page (GUP with
 * {@code FOLL_WRITE}, which breaks COW of the zero page), lock it, tell the MMU notifiers (the
 * range is being made exclusive), and under the PTE lock replace the present PTE by a non-present
 * device-exclusive entry ({@link SwapPte}) and flush that page from this mm's TLBs: one {@code
 * TLBI_PAGE_BCAST} per page. The page stays mapped (its count is unchanged).
 *
 * <p>{@link #restoreIfExclusive}: the CPU fault on such an entry ({@code do_swap_page}) reads the
 * entry, takes a reference on its page ({@code folio_try_get}, the 2023 fix; variant {@code
 * deviceExclusiveRef=get}), locks the page (sleeping while another fault on the same entry holds
 * it), tells the notifiers (the device drops its mapping), and under the PTE lock, if the entry is
 * unchanged, writes the original PTE back: non-present to present, no flush. With {@code
 * deviceExclusiveRef=none} (before the fix) no reference is taken: a concurrent unmap ({@code
 * madvise(MADV_DONTNEED)}, munmap, exit) can free the page while the fault waits for its lock, and
 * the fault then locks a freed page ({@link FolioLocks} reports {@code KERNEL_UAF}).
 *
 * <p>{@code // MODEL:} the entry is read and the reference taken with no interleaving point between
 * them, so {@code folio_try_get} always succeeds here (in Linux it may find the page already freed
 * and return; the window this model opens is the one after the reference, before the lock). Where
 * Linux returns from the fault and lets the access fault again, this loop re-reads the entry. Only
 * base pages of anonymous private VMAs are made exclusive (Linux splits a THP first; here a huge
 * page is skipped); fork does not copy device-exclusive entries (the child faults the page afresh).
 * The device's own accesses are not modelled. Confined to the simulation thread.
 */
final class DeviceExclusive {
  private static final KernelOperation OP_MAKE = KernelOperation.named("make_device_exclusive");
  private static final long PAGE_BYTES = 1L << PhysicalMemory.FRAME_SHIFT;

  private final org.mmuemu.kernel.arch.ArchUserPtes userPtes;
  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final PageCache pageCache;
  private final AnonPages anonPages;
  private final ZeroPfns zeroPfns;
  private final ArchTlbPolicy tlbPolicy;
  private final FolioLocks folioLocks;
  private final boolean takesReference;
  private final int[] probes = new int[1];
  private PreemptionHook preemptionHook = PreemptionHook.NONE;
  private long entriesMade;
  private long entriesRestored;
  private long restoresLost;

  DeviceExclusive(MmParts parts, KernelConfig config) {
    this.machine = parts.machine();
    this.costs = parts.costs();
    this.tables = parts.tables();
    this.pageCache = parts.pageCache();
    this.anonPages = parts.anonPages();
    this.zeroPfns = parts.zeroPfns();
    this.tlbPolicy = parts.tlbPolicy();
    this.userPtes = parts.userPtes();
    this.folioLocks = new FolioLocks(machine, costs.lockCycles());
    this.takesReference = config.variants().deviceExclusiveRef().takesReference();
  }

  void setPreemptionHook(PreemptionHook hook) {
    this.preemptionHook = hook;
  }

  /**
   * {@code make_device_exclusive} over the pages of {@code [startVa, endVa)} in {@code mm}.
   *
   * @param faults the fault path, which maps a page first (GUP's write fault)
   * @return the pages made exclusive
   */
  long make(int core, Mm mm, long startVa, long endVa, PageFaults faults) {
    long start = OP_MAKE.begin(machine, core, startVa);
    long made = 0;
    for (long va = startVa & -PAGE_BYTES; Long.compareUnsigned(va, endVa) < 0; va += PAGE_BYTES) {
      int level = tables.leafLevel(mm.rootPfn(), va);
      boolean missing = level < 0 && tables.leafEntry(mm.rootPfn(), va) == 0;
      if (missing
          || (level >= 0
              && zeroPfns.isZero(pfnOf(tables.leafDescriptor(mm.rootPfn(), va), level)))) {
        faults.gupWriteFault(core, mm, va);
      }
      mm.mmapLock().downRead(machine, core, costs.lockCycles());
      if (makeOne(core, mm, va)) {
        made++;
      }
      mm.mmapLock().upRead(machine, core);
    }
    OP_MAKE.end(machine, core, startVa, start);
    return made;
  }

  // page_make_device_exclusive_one for the one mapping of the anonymous page at va
  private boolean makeOne(int core, Mm mm, long va) {
    Vma vma = mm.findVma(va, probes);
    machine.charge(core, probes[0] * costs.vmaLookupCycles());
    long descriptor = tables.leafEntry(mm.rootPfn(), va);
    int leafLevel = machine.format().levels() - 1;
    if (vma == null
        || vma.mapsFile()
        || vma.shared()
        || !machine.format().isValid(descriptor, leafLevel)) {
      return false; // not anonymous private memory, a huge page, or already exclusive
    }
    long pfn = pfnOf(descriptor, leafLevel);
    if (pageCache.byPfn(pfn) != null || zeroPfns.isZero(pfn)) {
      return false; // a page-cache page COW-mapped, or the zero page: not anonymous
    }
    anonPages.get(pfn); // GUP's reference, held until the page is unlocked
    folioLocks.lock(core, pfn, machine.memory().allocationStamp(pfn), "make_device_exclusive");
    machine.charge(core, costs.mmuNotifierCycles()); // MMU_NOTIFY_EXCLUSIVE for the page
    mm.pteLock(va).acquire(machine, core, costs.lockCycles());
    boolean unchanged = tables.leafEntry(mm.rootPfn(), va) == descriptor;
    if (unchanged) {
      boolean writable = (machine.format().flags(descriptor, leafLevel) & PteFlags.WRITE) != 0;
      userPtes.unfold(core, mm, va); // one PTE of a contiguous block becomes non-present
      // counted before the entry is written: the flush below lets other cores run, and their
      // faults look for such entries only once one was made
      entriesMade++;
      tables.writeLeafEntry(mm.rootPfn(), va, SwapPte.deviceExclusive(pfn, writable), core);
      tlbPolicy.flushTlbRange(core, mm, va, va + PAGE_BYTES, PhysicalMemory.FRAME_SHIFT, true);
    }
    mm.pteLock(va).release(machine, core);
    folioLocks.unlock(core, pfn);
    putPage(core, pfn);
    return unchanged;
  }

  // the frame a leaf descriptor at level maps
  private long pfnOf(long descriptor, int level) {
    return machine.format().outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
  }

  /** Whether {@code mm}'s slot for {@code va} holds a device-exclusive entry now. */
  boolean isExclusiveEntry(Mm mm, long va) {
    if (entriesMade == 0) {
      return false; // no slot can hold one: spare every fault a software walk
    }
    return SwapPte.isDeviceExclusive(tables.leafEntry(mm.rootPfn(), va & -PAGE_BYTES));
  }

  /**
   * The CPU fault's part for a device-exclusive entry at {@code va} ({@code do_swap_page} → {@code
   * remove_device_exclusive_entry}), called with {@code mm}'s mmap lock held for read and no PTE
   * lock: while the slot holds such an entry, take the page back.
   *
   * @return whether this fault restored the PTE; false when the slot held no such entry, or another
   *     fault or an unmap changed it meanwhile (the ordinary fault path then handles whatever is
   *     there, as the access's next fault would in Linux)
   */
  boolean restoreIfExclusive(int core, Mm mm, long va) {
    if (entriesMade == 0) {
      return false;
    }
    long pageVa = va & -PAGE_BYTES;
    long entry = tables.leafEntry(mm.rootPfn(), pageVa);
    boolean restored = false;
    while (SwapPte.isDeviceExclusive(entry)) {
      long pfn = SwapPte.pfn(entry);
      long stampSeen = machine.memory().allocationStamp(pfn);
      if (takesReference) {
        anonPages.get(pfn); // folio_try_get: the page cannot be freed under the lock below
      }
      preemptionHook.preempt(machine, PreemptionHook.DEVICE_EXCLUSIVE_ENTRY_READ, core);
      folioLocks.lock(core, pfn, stampSeen, "remove_device_exclusive_entry");
      machine.charge(core, costs.mmuNotifierCycles()); // the device drops its mapping
      mm.pteLock(pageVa).acquire(machine, core, costs.lockCycles());
      boolean unchanged = tables.leafEntry(mm.rootPfn(), pageVa) == entry;
      if (unchanged) {
        restore(core, mm, pageVa, entry);
        restored = true;
      } else {
        restoresLost++; // another fault restored it, or an unmap zapped it, meanwhile
      }
      mm.pteLock(pageVa).release(machine, core);
      folioLocks.unlock(core, pfn);
      if (takesReference) {
        putPage(core, pfn);
      }
      entry = restored ? 0 : tables.leafEntry(mm.rootPfn(), pageVa);
    }
    return restored;
  }

  // folio_put: a concurrent unmap may have left this reference the last one
  private void putPage(int core, long pfn) {
    if (anonPages.put(pfn)) {
      machine.memory().free(pfn);
      machine.charge(core, costs.pageFreeCycles());
    }
  }

  // restore_exclusive_pte: the page's PTE again, writable and dirty if the replaced one was
  private void restore(int core, Mm mm, long pageVa, long entry) {
    Vma vma = mm.findVma(pageVa, probes);
    machine.charge(core, probes[0] * costs.vmaLookupCycles());
    int flags = (vma.flags() & PteFlags.EXEC) | PteFlags.USER | PteFlags.ACCESSED;
    if (SwapPte.writable(entry)) {
      flags |= PteFlags.WRITE | PteFlags.DIRTY;
    }
    tables.map(
        mm.rootPfn(),
        pageVa,
        SwapPte.pfn(entry) << PhysicalMemory.FRAME_SHIFT,
        machine.format().levels() - 1,
        flags,
        core);
    entriesRestored++;
  }

  /** Adds the device-exclusive counters to {@code counters}, once an entry was made. */
  void addCounters(Map<String, Object> counters) {
    if (entriesMade == 0) {
      return;
    }
    counters.put("deviceExclusiveEntries", entriesMade);
    counters.put("deviceExclusiveRestores", entriesRestored);
    counters.put("deviceExclusiveRestoresLost", restoresLost);
    counters.put("folioLocksAfterFree", folioLocks.uafLocks());
  }
}
