package org.mmuemu.kernel;

import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.FaultHandler;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.VmaLocking;
import org.mmuemu.kernel.numa.NumaBalancing;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.AnonPages;
import org.mmuemu.kernel.rmap.ReverseMap;
import org.mmuemu.kernel.uffd.Userfaultfd;

/**
 * The page-fault path (Linux mm/memory.c {@code handle_mm_fault}): a fault pays the entry cost,
 * then the VMA lookup (per node visited). A translation fault in a VMA allocates a frame, zeroes it
 * and maps it (allocating missing tables); the entry is written accessed, and dirty when the fault
 * was a write, so the first access needs no second fault. A permission fault on a writable VMA
 * upgrades the leaf to writable and dirty (for a file page, it also marks the page dirty: write
 * notification). An address outside every VMA, or a write to a read-only VMA, is a segmentation
 * fault: the access is abandoned and counted.
 *
 * <p>Private mappings copy on write (DOMAIN-FAULTS.md §5.2): a store to a write-protected page of a
 * private mapping ({@code do_wp_page}) reuses an anonymous page this mapping holds alone (marked
 * exclusive, or proved by its counts; no flush, it only adds permission), and otherwise copies it
 * ({@code wp_page_copy}): the old entry is cleared and flushed on this mm's CPUs before the copy is
 * mapped, and only then is the old page's reference dropped, so no TLB can reach it once it is
 * freed. A read fault in anonymous memory maps the shared zero page read-only ({@link ZeroPages});
 * a store to it takes the same copy path with a new zeroed page and nothing to drop. A read fault
 * in a private file mapping maps the page-cache page write-protected (with fault-around); a write
 * fault there maps a private copy at once ({@code do_cow_fault}). A fault on a PTE NUMA balancing
 * made PROT_NONE is a hinting fault ({@link NumaBalancing#doNumaPage}). A missing-page write fault
 * in an anonymous VMA may map a whole mTHP folio ({@link AnonFolios}); a change to one PTE of an
 * arm64 contiguous block unfolds the block first ({@link ArchUserPtes#unfold}). GUP's unshare
 * faults ({@link #gupFault}) take the copy path but leave the new page read-only.
 *
 * <p>Counters: {@code pageFaults}, {@code permissionFaults}, ... always; {@code cowReuseExclusive},
 * {@code cowReuseOnlyReference}, {@code cowCopies}, {@code cowFileFaults}, {@code cowPagesFreed},
 * {@code unshareCopies}, {@code unshareReuses}, {@code zeroPageCowFaults}, {@code zeroPageUnshares}
 * when they happen.
 *
 * <p>Locking (the {@code faultLocking} variant, DOMAIN-FAULTS.md §1.4): with {@code perVma} a fault
 * first tries {@link VmaLocking#lockVmaUnderRcu} and, when it gets the VMA and the access is
 * allowed there, is handled holding only that VMA's read lock ({@code vmaLockSuccess}); otherwise,
 * and always with {@code mmapLock}, it takes {@code mmap_lock} for read, looks the VMA up again and
 * is handled under it. Faults GUP makes on a process's behalf always take {@code mmap_lock}.
 *
 * <p>Confined to the simulation thread.
 */
final class PageFaults implements FaultHandler {
  private static final KernelOperation OP_PAGEFAULT = KernelOperation.named("pageFault");
  private static final long PAGE_BYTES = 1L << PhysicalMemory.FRAME_SHIFT;

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final PageCache pageCache;
  private final ReverseMap rmap;
  private final AnonPages anonPages;
  private final HugePmd hugePmd;
  private final ArchTlbPolicy tlbPolicy;
  private final Processes processes;
  private final VmaLocking vmaLocking;
  private final NumaBalancing numaBalancing;
  private final long faultAroundPages;
  private final DeviceExclusive deviceExclusive;
  private final Userfaultfd uffd;
  private final AnonFolios anonFolios;
  private final ArchUserPtes userPtes;
  private final ZeroPages zeroPages;
  private final int[] probes = new int[1];
  private long pageFaults;
  private long permissionFaults;
  private long segfaults;
  private long racedFaults;
  private long dataPagesAllocated;
  private long fileFaults;
  private long fileWriteNotifyFaults;
  private long faultAroundPagesMapped;

  PageFaults(
      MmParts parts,
      KernelConfig config,
      DeviceExclusive deviceExclusive,
      Userfaultfd uffd,
      NumaBalancing numaBalancing,
      AnonFolios anonFolios) {
    this.numaBalancing = numaBalancing;
    this.anonFolios = anonFolios;
    this.userPtes = parts.userPtes();
    this.machine = parts.machine();
    this.costs = parts.costs();
    this.tables = parts.tables();
    this.pageCache = parts.pageCache();
    this.rmap = parts.rmap();
    this.anonPages = parts.anonPages();
    this.hugePmd = parts.hugePmd();
    this.tlbPolicy = parts.tlbPolicy();
    this.processes = parts.processes();
    this.vmaLocking = parts.vmaLocking();
    this.faultAroundPages = config.tunables().faultAroundPages();
    this.deviceExclusive = deviceExclusive;
    this.uffd = uffd;
    this.zeroPages = new ZeroPages(parts, config);
  }

  @Override
  public boolean handleFault(int core, long va, AccessKind kind, boolean permission) {
    long start = OP_PAGEFAULT.begin(machine, core, va);
    machine.charge(core, costs.faultEntryCycles());
    Mm mm = processes.currentMm(core);
    if (mm != null && vmaLocking.perVma()) {
      Vma vma = vmaLocking.lockVmaUnderRcu(core, mm, va);
      if (vma != null
          && !accessError(vma, kind)
          && (uffd.isUserfault(mm, va, kind, permission)
              || (!permission && deviceExclusive.isExclusiveEntry(mm, va)))) {
        // 6.4: do_swap_page and handle_userfault return VM_FAULT_RETRY under the VMA lock
        vmaLocking.vmaEndRead(core);
        vmaLocking.countRetry();
        vma = null;
      }
      if (vma != null && !accessError(vma, kind)) {
        mm.pteLock(va).acquire(machine, core, costs.lockCycles());
        boolean resolved = resolveIn(core, mm, vma, va, kind, permission);
        mm.pteLock(va).release(machine, core);
        uffd.checkNotWritable(core, mm, va); // UW1
        vmaLocking.vmaEndRead(core);
        vmaLocking.countSuccess();
        OP_PAGEFAULT.end(machine, core, va, start);
        return resolved;
      }
      if (vma != null) {
        vmaLocking.vmaEndRead(core); // the classic path below reports the error
      }
    }
    boolean resolved;
    if (mm != null) {
      mm.mmapLock().downRead(machine, core, costs.lockCycles());
    }
    if (mm != null && uffd.handleFault(core, mm, va, kind, permission)) {
      resolved = true; // a userfault the monitor resolved, or a marker slot filled
      if (kind == AccessKind.WRITE) {
        wpAfterUserfault(core, mm, va);
      }
      mm.mmapLock().upRead(machine, core);
    } else if (mm != null && !permission && deviceExclusive.restoreIfExclusive(core, mm, va)) {
      resolved = true; // do_swap_page took the page back from the device: the access retries
      mm.mmapLock().upRead(machine, core);
    } else if (mm != null) {
      // MODEL: the PTE table's lock is held over the whole resolution, allocation and file read
      // included (Linux takes it only around the re-check and the PTE update)
      mm.pteLock(va).acquire(machine, core, costs.lockCycles());
      resolved = resolve(core, mm, va, kind, permission);
      mm.pteLock(va).release(machine, core);
      uffd.checkNotWritable(core, mm, va); // UW1
      mm.mmapLock().upRead(machine, core);
    } else {
      resolved = resolve(core, null, va, kind, permission);
    }
    OP_PAGEFAULT.end(machine, core, va, start);
    return resolved;
  }

  /**
   * A store's userfault was resolved, but the page may still be read-only: resolving leaves the
   * zero page write-protected, so the store breaks COW ({@code do_wp_page}) now.
   *
   * <p>{@code // MODEL:} in the same fault; Linux returns to user space and the store faults again
   * (the machine retries an access once).
   */
  private void wpAfterUserfault(int core, Mm mm, long va) {
    mm.pteLock(va).acquire(machine, core, costs.lockCycles());
    int level = tables.leafLevel(mm.rootPfn(), va);
    long descriptor = tables.leafDescriptor(mm.rootPfn(), va);
    if (level >= 0
        && (machine.format().flags(descriptor, level) & PteFlags.WRITE) == 0
        && !uffd.isWriteProtected(mm, va)) {
      resolve(core, mm, va, AccessKind.WRITE, true);
    }
    mm.pteLock(va).release(machine, core);
  }

  /**
   * {@code handle_mm_fault} called by GUP on behalf of {@code mm} (no exception entry): a read
   * fault that maps a missing page, or with {@code unshare} ({@code FAULT_FLAG_UNSHARE}) a fault
   * that leaves an exclusive anonymous page mapped read-only where a page shared with another
   * mapping, or a page-cache page of a COW mapping, was. In a mapping that is not COW, unshare is a
   * read fault.
   *
   * @return whether a page is mapped at {@code va} afterwards
   */
  boolean gupFault(int core, Mm mm, long va, boolean unshare) {
    return gupFault(core, mm, va, unshare ? GupFault.UNSHARE : GupFault.READ);
  }

  /**
   * {@code handle_mm_fault} with {@code FAULT_FLAG_WRITE} called by GUP with {@code FOLL_WRITE} on
   * behalf of {@code mm}: a missing page is faulted in for a store, and a write-protected one (the
   * zero page, a page shared since fork) is broken by {@code do_wp_page}, so {@code va} maps a
   * writable page of this mapping afterwards.
   *
   * @return whether a page is mapped at {@code va} afterwards
   */
  boolean gupWriteFault(int core, Mm mm, long va) {
    return gupFault(core, mm, va, GupFault.WRITE);
  }

  /** What GUP asks {@code handle_mm_fault} for. */
  private enum GupFault {
    READ,
    UNSHARE,
    WRITE
  }

  private boolean gupFault(int core, Mm mm, long va, GupFault fault) {
    if (mm == null) {
      return resolve(core, null, va, AccessKind.READ, false);
    }
    mm.mmapLock().downRead(machine, core, costs.lockCycles());
    deviceExclusive.restoreIfExclusive(core, mm, va);
    mm.pteLock(va).acquire(machine, core, costs.lockCycles());
    boolean mapped = gupFaultLocked(core, mm, va, fault);
    mm.pteLock(va).release(machine, core);
    mm.mmapLock().upRead(machine, core);
    return mapped;
  }

  private boolean gupFaultLocked(int core, Mm mm, long va, GupFault fault) {
    long pageVa = va & -PAGE_BYTES;
    long descriptor = tables.leafDescriptor(mm.rootPfn(), pageVa);
    boolean write = fault == GupFault.WRITE;
    if (descriptor == 0) {
      return resolve(core, mm, va, write ? AccessKind.WRITE : AccessKind.READ, false);
    }
    if (write) {
      int level = tables.leafLevel(mm.rootPfn(), pageVa);
      return (machine.format().flags(descriptor, level) & PteFlags.WRITE) != 0
          || resolve(core, mm, va, AccessKind.WRITE, true);
    }
    Vma vma = mm.findVma(va, probes);
    machine.charge(core, probes[0] * costs.vmaLookupCycles());
    if (fault != GupFault.UNSHARE || vma == null || !vma.cowMapping()) {
      return vma != null;
    }
    return doWpPage(core, mm, vma, pageVa, descriptor, true);
  }

  // access_error: an access the VMA does not allow
  private static boolean accessError(Vma vma, AccessKind kind) {
    return (kind == AccessKind.WRITE && !vma.writable())
        || (kind == AccessKind.FETCH && (vma.flags() & PteFlags.EXEC) == 0);
  }

  private boolean resolve(int core, Mm mm, long va, AccessKind kind, boolean permission) {
    if (mm == null) {
      segfaults++;
      return false;
    }
    Vma vma = mm.findVma(va, probes);
    machine.charge(core, probes[0] * costs.vmaLookupCycles());
    if (vma == null || accessError(vma, kind)) {
      segfaults++;
      return false;
    }
    return resolveIn(core, mm, vma, va, kind, permission);
  }

  // handle_mm_fault in vma, which allows the access
  private boolean resolveIn(
      int core, Mm mm, Vma vma, long va, AccessKind kind, boolean permission) {
    long pageVa = va & -PAGE_BYTES;
    if (numaBalancing.isHintingFault(mm, pageVa)) {
      numaBalancing.doNumaPage(core, mm, vma, pageVa, kind); // do_numa_page
      return true;
    }
    if (!permission && tables.leafDescriptor(mm.rootPfn(), pageVa) != 0) {
      // Another thread's fault mapped the page while this one waited (Linux finds the PTE no
      // longer none under the PTE lock and returns): the access simply retries.
      racedFaults++;
      return true;
    }
    if (vma.fileBacked()) {
      return resolveFile(core, mm, vma, pageVa, kind, permission);
    }
    if (tables.leafLevel(mm.rootPfn(), pageVa) == hugePmd.pmdLevel()) {
      if (kind == AccessKind.WRITE && hugePmd.mapsHugeZero(mm, pageVa)) {
        permissionFaults++;
        // the call interleaves with other cores' faults (its flush waits): add after it returns
        long allocated = zeroPages.wpHugeZeroPmd(core, mm, vma, pageVa);
        dataPagesAllocated += allocated;
      }
      // otherwise a huge page maps it (writable in an anonymous VMA): another CPU's fault raced
      return true;
    }
    long descriptor = tables.leafDescriptor(mm.rootPfn(), pageVa);
    if (descriptor != 0
        && kind == AccessKind.WRITE
        && (machine.format().flags(descriptor, leafLevel()) & PteFlags.WRITE) == 0) {
      return doWpPage(core, mm, vma, pageVa, descriptor, false);
    }
    if (descriptor == 0 && vma.mapsFile()) {
      return resolveFile(core, mm, vma, pageVa, kind, false);
    }
    int flags =
        vma.flags()
            | PteFlags.USER
            | PteFlags.ACCESSED
            | (kind == AccessKind.WRITE ? PteFlags.DIRTY : 0);
    if (permission) {
      permissionFaults++;
      userPtes.unfold(core, mm, pageVa); // ptep_set_access_flags changing the write bit
      return tables.updateFlags(mm.rootPfn(), pageVa, flags | PteFlags.DIRTY, core);
    }
    pageFaults++;
    boolean write = kind == AccessKind.WRITE;
    boolean huge = hugePmd.fits(mm, vma, pageVa);
    if (!write && !huge && !vma.shared()) {
      zeroPages.mapZeroPte(core, mm, vma, pageVa); // do_anonymous_page: needs no anon_vma
      return true;
    }
    vmaLocking.anonVmaPrepare(core, mm, vma);
    if (!write && huge && zeroPages.mapHugeZeroPmd(core, mm, vma, pageVa)) {
      return true;
    }
    if (hugePmd.faultIn(core, mm, vma, pageVa, write)) {
      dataPagesAllocated += 1L << (machine.format().levelShift(hugePmd.pmdLevel()) - 12);
      return true;
    }
    int folioPages =
        kind == AccessKind.WRITE ? anonFolios.faultIn(core, mm, vma, pageVa, flags) : 0;
    if (folioPages > 0) {
      dataPagesAllocated += folioPages;
      return true;
    }
    tables.allocateTables(mm.rootPfn(), pageVa, leafLevel(), core);
    long pfn = newPage(core, costs.pageZeroCycles());
    tables.map(mm.rootPfn(), pageVa, pfn << PhysicalMemory.FRAME_SHIFT, leafLevel(), flags, core);
    return true;
  }

  /**
   * A fault in a file mapping. A missing page is read into the page cache and mapped; a read maps
   * it write-protected (the mapping wants write notification), a write maps it writable and dirty
   * and marks the page dirty. A write to a write-protected page ({@code do_wp_page} / {@code
   * page_mkwrite}) marks the page dirty and makes the PTE writable and dirty. So a page is only
   * ever written through a PTE the kernel knows about: after {@code folio_mkclean} write-protected
   * every mapping, the next store faults here first. In a private mapping only missing pages come
   * here: a read maps the page-cache page write-protected, a write maps a private copy of it
   * ({@code do_cow_fault}).
   */
  private boolean resolveFile(
      int core, Mm mm, Vma vma, long pageVa, AccessKind kind, boolean permission) {
    long index = vma.filePageIndex(pageVa);
    if (index >= vma.file().pages()) {
      segfaults++; // SIGBUS beyond the end of the file
      return false;
    }
    boolean write = kind == AccessKind.WRITE;
    int flags = vma.flags() | PteFlags.USER | PteFlags.ACCESSED | (write ? PteFlags.DIRTY : 0);
    if (!write) {
      flags &= ~PteFlags.WRITE;
    }
    if (permission) {
      long descriptor = tables.leafDescriptor(mm.rootPfn(), pageVa);
      if (descriptor == 0) {
        return false;
      }
      CachedPage page =
          pageCache.byPfn(
              machine.format().outputPa(descriptor, machine.format().levels() - 1)
                  >>> PhysicalMemory.FRAME_SHIFT);
      permissionFaults++;
      fileWriteNotifyFaults++;
      if (page != null) {
        page.markDirty();
      }
      return tables.updateFlags(mm.rootPfn(), pageVa, flags, core);
    }
    pageFaults++;
    fileFaults++;
    CachedPage page = pageCache.lookup(vma.file(), index);
    if (page == null) {
      tables.allocateTables(mm.rootPfn(), pageVa, leafLevel(), core);
      machine.charge(core, costs.pageAllocCycles() + costs.fileReadCycles());
      // The page enters the cache and the PTE is written when the read completes, not when it
      // starts; another core may have read the same page meanwhile.
      machine.catchUp(core);
      page = pageCache.lookup(vma.file(), index);
      if (page == null) {
        page = pageCache.readPage(vma.file(), index);
        dataPagesAllocated++;
      }
    }
    if (write && !vma.shared()) {
      vmaLocking.anonVmaPrepare(core, mm, vma);
      long copy = newPage(core, costs.pageCopyCycles());
      tables.map(
          mm.rootPfn(), pageVa, copy << PhysicalMemory.FRAME_SHIFT, leafLevel(), flags, core);
      machine.stats().addKernelCounter("cowFileFaults", 1);
      return true;
    }
    if (write) {
      page.markDirty();
    }
    tables.map(
        mm.rootPfn(), pageVa, page.pfn() << PhysicalMemory.FRAME_SHIFT, leafLevel(), flags, core);
    rmap.add(page.pfn(), mm, pageVa);
    if (!write) {
      faultAround(core, mm, vma, pageVa, flags);
    }
    return true;
  }

  /**
   * Linux {@code do_fault_around} / {@code filemap_map_pages} after a read fault: the pages of the
   * {@code fault_around_bytes} window around the fault that are already in the page cache and not
   * mapped yet are mapped write-protected, saving their own faults, and old where the arch wants
   * that ({@link ArchUserPtes#wantsOldPrefaultedPtes}: arm64). Pages not cached are left to fault
   * (no readahead). The window (DOMAIN-FAULTS.md §3.2, Linux 6.4) is {@code nr} pages ({@code
   * faultAroundPages}, a power of two): it starts at the fault's PTE index rounded down to {@code
   * nr}, or at the VMA's start if that lies later in the same PTE table, and runs {@code nr} pages
   * from there, cut at the end of the PTE table and of the VMA. So it is aligned unless the VMA
   * begins inside it, and one PTE table's lock covers it.
   */
  private void faultAround(int core, Mm mm, Vma vma, long pageVa, int flags) {
    long nr = faultAroundPages;
    if (nr <= 1) {
      return;
    }
    int leafLevel = leafLevel();
    long ptesPerTable =
        1L << (machine.format().levelShift(leafLevel - 1) - PhysicalMemory.FRAME_SHIFT);
    long pteOff = (pageVa >>> PhysicalMemory.FRAME_SHIFT) & (ptesPerTable - 1);
    long vmaOff = (pageVa - vma.startVa()) >>> PhysicalMemory.FRAME_SHIFT;
    long vmaPages = vma.sizeBytes() >>> PhysicalMemory.FRAME_SHIFT;
    long fromPte = Math.max(pteOff & -nr, pteOff - Math.min(pteOff, vmaOff));
    long toPte = Math.min(Math.min(fromPte + nr, ptesPerTable), pteOff + vmaPages - vmaOff);
    int prefaultedFlags = flags & ~PteFlags.DIRTY;
    if (userPtes.wantsOldPrefaultedPtes()) {
      prefaultedFlags &= ~PteFlags.ACCESSED;
    }
    for (long pte = fromPte; pte < toPte; pte++) {
      long va = pageVa + ((pte - pteOff) << PhysicalMemory.FRAME_SHIFT);
      if (va == pageVa || tables.leafDescriptor(mm.rootPfn(), va) != 0) {
        continue;
      }
      long index = vma.filePageIndex(va);
      CachedPage cached = index < vma.file().pages() ? pageCache.lookup(vma.file(), index) : null;
      if (cached == null) {
        continue;
      }
      tables.map(
          mm.rootPfn(),
          va,
          cached.pfn() << PhysicalMemory.FRAME_SHIFT,
          leafLevel,
          prefaultedFlags,
          core);
      rmap.add(cached.pfn(), mm, va);
      faultAroundPagesMapped++;
    }
  }

  /**
   * Linux {@code do_wp_page} for a write (or, with {@code unshare}, an unshare) fault on the
   * write-protected page {@code descriptor} maps in the private mapping {@code vma}: an anonymous
   * page this mapping may keep is reused, anything else is copied ({@link #wpPageCopy}).
   */
  private boolean doWpPage(
      int core, Mm mm, Vma vma, long pageVa, long descriptor, boolean unshare) {
    long pfn = machine.format().outputPa(descriptor, leafLevel()) >>> PhysicalMemory.FRAME_SHIFT;
    CachedPage cached = pageCache.byPfn(pfn);
    // the page-table lock is held by the caller (handleFault), or taken here for GUP
    machine.charge(core, costs.lockCycles());
    if (!unshare) {
      permissionFaults++;
    }
    if (cached == null && !zeroPages.isZero(pfn)) {
      AnonPages.Reuse reuse = anonPages.reuse(pfn);
      if (reuse != AnonPages.Reuse.NO) {
        if (unshare) {
          machine.stats().addKernelCounter("unshareReuses", 1);
          return true; // already exclusive: nothing to change, the PTE stays read-only
        }
        machine
            .stats()
            .addKernelCounter(
                reuse == AnonPages.Reuse.EXCLUSIVE ? "cowReuseExclusive" : "cowReuseOnlyReference",
                1);
        // wp_page_reuse: only adds permission, so no flush; a CPU still caching the read-only
        // entry takes a spurious fault and finds the PTE writable. Changing the write bit of one
        // PTE of a contiguous block unfolds it first (contpte_ptep_set_access_flags).
        userPtes.unfold(core, mm, pageVa);
        return tables.updateFlags(
            mm.rootPfn(),
            pageVa,
            vma.flags() | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY,
            core);
      }
    }
    wpPageCopy(core, mm, vma, pageVa, pfn, cached != null, unshare);
    return true;
  }

  /**
   * Linux {@code wp_page_copy}: a copy of {@code oldPfn} replaces it in this mapping, writable and
   * dirty for a write, read-only for an unshare; a zero page is replaced by a new zeroed page.
   * Break-before-make: the old entry is cleared and flushed on every CPU of {@code mm} ({@code
   * ptep_clear_flush}) before the new one is written; the old page's mapping and reference go last,
   * so a page freed here is reachable through no TLB.
   */
  private void wpPageCopy(
      int core, Mm mm, Vma vma, long pageVa, long oldPfn, boolean pageCachePage, boolean unshare) {
    vmaLocking.anonVmaPrepare(core, mm, vma);
    boolean zeroPage = zeroPages.isZero(oldPfn);
    long newPfn = newPage(core, zeroPage ? costs.pageZeroCycles() : costs.pageCopyCycles());
    userPtes.unfold(core, mm, pageVa); // ptep_clear_flush of one PTE of a contiguous block
    tables.clearLeaf(mm.rootPfn(), pageVa, core);
    tlbPolicy.flushTlbRange(
        core, mm, pageVa, pageVa + PAGE_BYTES, PhysicalMemory.FRAME_SHIFT, true);
    int flags = vma.flags() | PteFlags.USER | PteFlags.ACCESSED;
    flags = unshare ? flags & ~PteFlags.WRITE : flags | PteFlags.DIRTY;
    tables.map(
        mm.rootPfn(), pageVa, newPfn << PhysicalMemory.FRAME_SHIFT, leafLevel(), flags, core);
    if (pageCachePage) {
      rmap.remove(oldPfn, mm, pageVa); // the page cache keeps the page
    } else if (!zeroPage // vm_normal_page is NULL for it: no rmap, no reference to drop
        && anonPages.unmapAfterCopy(oldPfn)) {
      machine.memory().free(oldPfn);
      machine.charge(core, costs.pageFreeCycles());
      machine.stats().addKernelCounter("cowPagesFreed", 1);
    }
    String counter =
        zeroPage
            ? (unshare ? "zeroPageUnshares" : "zeroPageCowFaults")
            : (unshare ? "unshareCopies" : "cowCopies");
    machine.stats().addKernelCounter(counter, 1);
  }

  /**
   * Allocates a frame for an anonymous page and fills it ({@code fillCycles}: a copy, or zeroing);
   * returns the frame.
   */
  private long newPage(int core, long fillCycles) {
    machine.charge(core, costs.pageAllocCycles() + fillCycles);
    machine.catchUp(core); // the new page's PTE write must not be seen before it is filled
    dataPagesAllocated++;
    return machine.memory().allocate(FrameKind.DATA);
  }

  private int leafLevel() {
    return machine.format().levels() - 1;
  }

  /** Adds the fault counters to {@code counters}. */
  void addCounters(java.util.Map<String, Object> counters) {
    counters.put("dataPagesAllocated", dataPagesAllocated);
    counters.put("faultAroundPages", faultAroundPagesMapped);
    counters.put("fileFaults", fileFaults);
    counters.put("fileWriteNotifyFaults", fileWriteNotifyFaults);
    counters.put("pageFaults", pageFaults);
    counters.put("permissionFaults", permissionFaults);
    counters.put("segfaults", segfaults);
    counters.put("racedFaults", racedFaults);
  }
}
