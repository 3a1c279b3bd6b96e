package org.mmuemu.kernel;

import static org.mmuemu.kernel.UnsignedVa.max;
import static org.mmuemu.kernel.UnsignedVa.min;

import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.FaultHandler;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.ReverseMap;

/**
 * The page-fault path (Linux mm/memory.c {@code handle_mm_fault}): a fault pays the entry cost,
 * then the VMA lookup (per node visited). A translation fault in a VMA allocates a frame, zeroes it
 * and maps it (allocating missing tables); the entry is written accessed, and dirty when the fault
 * was a write, so the first access needs no second fault. A permission fault on a writable VMA
 * upgrades the leaf to writable and dirty (for a file page, it also marks the page dirty: write
 * notification). An address outside every VMA, or a write to a read-only VMA, is a segmentation
 * fault: the access is abandoned and counted. Confined to the simulation thread.
 */
final class PageFaults implements FaultHandler {
  private static final KernelOperation OP_PAGEFAULT = KernelOperation.named("pageFault");

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final PageCache pageCache;
  private final ReverseMap rmap;
  private final Processes processes;
  private final int[] probes = new int[1];
  private boolean speculating;
  private long pageFaults;
  private long permissionFaults;
  private long segfaults;
  private long racedFaults;
  private long dataPagesAllocated;
  private long fileFaults;
  private long fileWriteNotifyFaults;
  private long faultAroundPages;

  PageFaults(
      Machine machine,
      KernelCosts costs,
      PageTableEditor tables,
      PageCache pageCache,
      ReverseMap rmap,
      Processes processes) {
    this.machine = machine;
    this.costs = costs;
    this.tables = tables;
    this.pageCache = pageCache;
    this.rmap = rmap;
    this.processes = processes;
  }

  /**
   * A speculative page walk of {@code va} on {@code core}: the CPU walks the tables for an address
   * it may touch (a stale pointer, a prefetch) without accessing it. Whatever upper levels the walk
   * passes through are learnt by the core's walk caches; a walk that finds no translation is
   * dropped without a fault.
   *
   * <p>{@code // MODEL:} made through the machine's ordinary translation, so it pays the lookup and
   * walk cycles, fills the TLB when the address is mapped, and, when it is not, the machine counts
   * a fault and an unresolved fault (the kernel's fault path is not entered).
   */
  public void speculativeWalk(int core, long va) {
    speculating = true;
    try {
      machine.translate(core, va, AccessKind.READ);
    } finally {
      speculating = false;
    }
  }

  @Override
  public boolean handleFault(int core, long va, AccessKind kind, boolean permission) {
    if (speculating) {
      return false; // a speculative walk that finds nothing is dropped, no exception is taken
    }
    long start = OP_PAGEFAULT.begin(machine, core, va);
    machine.charge(core, costs.faultEntryCycles());
    // MODEL: every fault takes mmap_lock for read (Linux before 6.4's per-VMA locks)
    Mm mm = processes.currentMm(core);
    if (mm != null) {
      mm.mmapLock().downRead(machine, core, costs.lockCycles());
    }
    boolean resolved = resolve(core, va, kind, permission);
    if (mm != null) {
      mm.mmapLock().upRead(machine, core);
    }
    OP_PAGEFAULT.end(machine, core, va, start);
    return resolved;
  }

  private boolean resolve(int core, long va, AccessKind kind, boolean permission) {
    Mm mm = processes.currentMm(core);
    if (mm == null) {
      segfaults++;
      return false;
    }
    Vma vma = mm.findVma(va, probes);
    machine.charge(core, probes[0] * costs.vmaLookupCycles());
    if (vma == null
        || (kind == AccessKind.WRITE && !vma.writable())
        || (kind == AccessKind.FETCH && (vma.flags() & PteFlags.EXEC) == 0)) {
      segfaults++;
      return false;
    }
    long pageVa = va & ~((1L << PhysicalMemory.FRAME_SHIFT) - 1);
    if (!permission && tables.leafDescriptor(mm.rootPfn(), pageVa) != 0) {
      // Another thread's fault mapped the page while this one waited (Linux finds the PTE no
      // longer none under the PTE lock and returns): the access simply retries.
      racedFaults++;
      return true;
    }
    if (vma.fileBacked()) {
      return resolveFile(core, mm, vma, pageVa, kind, permission);
    }
    int flags =
        vma.flags()
            | PteFlags.USER
            | PteFlags.ACCESSED
            | (kind == AccessKind.WRITE ? PteFlags.DIRTY : 0);
    if (permission) {
      permissionFaults++;
      return tables.updateFlags(mm.rootPfn(), pageVa, flags | PteFlags.DIRTY, core);
    }
    pageFaults++;
    machine.charge(core, costs.pageAllocCycles() + costs.pageZeroCycles());
    long pfn = machine.memory().allocate(FrameKind.DATA);
    dataPagesAllocated++;
    tables.map(
        mm.rootPfn(),
        pageVa,
        pfn << PhysicalMemory.FRAME_SHIFT,
        machine.format().levels() - 1,
        flags,
        core);
    return true;
  }

  /**
   * A fault in a shared file mapping. A missing page is read into the page cache and mapped; a read
   * maps it write-protected (the mapping wants write notification), a write maps it writable and
   * dirty and marks the page dirty. A write to a write-protected page ({@code do_wp_page} / {@code
   * page_mkwrite}) marks the page dirty and makes the PTE writable and dirty. So a page is only
   * ever written through a PTE the kernel knows about: after {@code folio_mkclean} write-protected
   * every mapping, the next store faults here first.
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
      machine.charge(core, costs.pageAllocCycles() + costs.fileReadCycles());
      page = pageCache.readPage(vma.file(), index);
      dataPagesAllocated++;
    }
    if (write) {
      page.markDirty();
    }
    tables.map(
        mm.rootPfn(),
        pageVa,
        page.pfn() << PhysicalMemory.FRAME_SHIFT,
        machine.format().levels() - 1,
        flags,
        core);
    rmap.add(page.pfn(), mm, pageVa);
    if (!write) {
      faultAround(core, mm, vma, pageVa, flags);
    }
    return true;
  }

  /**
   * Linux {@code do_fault_around} / {@code filemap_map_pages} after a read fault: the pages of the
   * {@code fault_around_bytes} window around the fault (aligned, clipped to the VMA and to the
   * faulting PTE table) that are already in the page cache and not mapped yet are mapped
   * write-protected, saving their own faults. Pages not cached are left to fault (no readahead).
   * Window from the kernel cost key {@code faultAroundBytes}, rounded down to a power of two; 4096
   * (one page) or less turns it off.
   */
  private void faultAround(int core, Mm mm, Vma vma, long pageVa, int flags) {
    long windowBytes =
        Long.highestOneBit(costs.faultAroundBytes()); // Linux rounds down to a power of two
    if (windowBytes <= 4096) {
      return;
    }
    int leafLevel = machine.format().levels() - 1;
    long tableSpan = 1L << machine.format().levelShift(leafLevel - 1);
    long windowStart = max(max(pageVa & -windowBytes, vma.startVa()), pageVa & -tableSpan);
    long windowEnd =
        min(
            min((pageVa & -windowBytes) + windowBytes, vma.endVa()),
            (pageVa & -tableSpan) + tableSpan);
    for (long va = windowStart;
        Long.compareUnsigned(va, windowEnd) < 0;
        va += 1L << PhysicalMemory.FRAME_SHIFT) {
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
          flags & ~PteFlags.DIRTY,
          core);
      rmap.add(cached.pfn(), mm, va);
      faultAroundPages++;
    }
  }

  /** Adds the fault counters to {@code counters}. */
  void addCounters(java.util.Map<String, Object> counters) {
    counters.put("dataPagesAllocated", dataPagesAllocated);
    counters.put("faultAroundPages", faultAroundPages);
    counters.put("fileFaults", fileFaults);
    counters.put("fileWriteNotifyFaults", fileWriteNotifyFaults);
    counters.put("pageFaults", pageFaults);
    counters.put("permissionFaults", permissionFaults);
    counters.put("segfaults", segfaults);
    counters.put("racedFaults", racedFaults);
  }
}
