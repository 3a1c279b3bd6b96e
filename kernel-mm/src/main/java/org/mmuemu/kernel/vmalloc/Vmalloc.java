package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.lock.SimLock;
import org.mmuemu.kernel.oracle.AliasOracle;

/**
 * Linux's vmalloc API (mm/vmalloc.c) over the vmap_area allocator ({@link VmapAreaAllocator}):
 * {@code vmalloc}/{@code vfree}, {@code vmap}/{@code vunmap}, huge vmap, the per-CPU vmap blocks
 * behind {@code vm_map_ram} ({@link VmapBlocks}), {@code vm_unmap_aliases}, the per-CPU allocator's
 * chunks ({@link PercpuAllocator}) and {@code kvfree_rcu}. Page-table writes go through {@link
 * KernelPageTables} and the arch layer.
 *
 * <h3>Lazy freeing</h3>
 *
 * {@code vfree} clears the area's entries, returns its pages at once, and puts the area on the lazy
 * list: its virtual range is not reusable yet and no TLB is flushed. {@code vmap_lazy_nr} counts
 * the lazy pages; above {@code lazy_max_pages() = fls(online CPUs) × 32 MiB / PAGE_SIZE} the drain
 * purges: one {@code flush_tlb_kernel_range} over the union of the lazy ranges, then the ranges go
 * back to the free tree ({@code __purge_vmap_area_lazy}). The {@code vunmapFlush=eager} variant is
 * the pre-2.6.28 kernel instead: every free flushes its own range and returns it at once.
 *
 * <h3>Cost</h3>
 *
 * Each call pays from the kernel cost table: per tree node visited ({@code vmapNodeVisitCycles}),
 * per vmap_area object ({@code vmapAreaObjectCycles}), per lock taken ({@code lockCycles}, with
 * {@link SimLock} waits), per page allocated, zeroed and freed, per descriptor written and table
 * allocated, plus the arch flush policy's own instructions.
 *
 * <p>{@code // MODEL:} the drain work that Linux schedules when the lazy count passes the limit
 * runs on the freeing core right after the call that queued it; its cycles go to that core but not
 * to the call's latency.
 *
 * <p>Addresses are the kernel's virtual addresses; {@code 0} means failure, as in Linux. Confined
 * to the simulation thread.
 */
public final class Vmalloc {
  private static final KernelOperation OP_VMALLOC = KernelOperation.named("vmalloc");
  private static final KernelOperation OP_VFREE = KernelOperation.named("vfree");
  private static final KernelOperation OP_VMAP = KernelOperation.named("vmap");
  private static final KernelOperation OP_VUNMAP = KernelOperation.named("vunmap");
  private static final KernelOperation OP_VM_MAP_RAM = KernelOperation.named("vm_map_ram");
  private static final KernelOperation OP_VM_UNMAP_RAM = KernelOperation.named("vm_unmap_ram");
  private static final KernelOperation OP_VM_UNMAP_ALIASES =
      KernelOperation.named("vm_unmap_aliases");

  /** Base page size. */
  public static final long PAGE_BYTES = 4096;

  private static final long LAZY_BYTES_PER_FLS = 32L << 20;
  private final VmallocContext context;
  private final VmallocConfig config;
  private final LinuxArch arch;
  private final Machine machine;
  private final PhysicalMemory memory;
  private final long vmallocStartVa;
  private final long vmallocEndVa;
  private final KernelPageTables pageTables;
  private final AliasOracle aliasOracle;
  private final VmapAreaAllocator areas;
  private final VmapBlocks blocks;
  private final PercpuAllocator percpu;
  private final long lockCycles;
  private final long pageAllocCycles;
  private final long pageZeroCycles;
  private final long pageFreeCycles;
  private final long rcuGracePeriodCycles;
  private final List<List<long[]>> rcuPending = new ArrayList<>();

  // counters
  private long vmallocCalls;
  private long vmallocFailures;
  private long vfreeCalls;
  private long vfreeBadAddress;
  private long pagesMapped;
  private long pagesFreedNow;
  private long hugeBlocksMapped;
  private long tablesFreed;

  /** Sets vmalloc up; use {@code Kernel.vmalloc()}, which creates one per kernel. */
  public Vmalloc(VmallocContext context, VmallocConfig config) {
    this.context = context;
    this.config = config;
    this.arch = context.arch();
    this.machine = context.machine();
    this.memory = machine.memory();
    this.vmallocStartVa = arch.layout().vmallocStartVa();
    this.vmallocEndVa = arch.layout().vmallocEndVa();
    this.lockCycles = config.lockCycles();
    this.pageAllocCycles = config.pageAllocCycles();
    this.pageZeroCycles = config.pageZeroCycles();
    this.pageFreeCycles = config.pageFreeCycles();
    this.rcuGracePeriodCycles = config.rcuGracePeriodCycles();
    this.pageTables =
        new KernelPageTables(
            machine,
            context.tables(),
            context.kernelRootPfn(),
            config.pteWriteCycles(),
            arch.kernelMappings());
    this.aliasOracle = new AliasOracle(machine, pageTables::translate);
    this.areas = new VmapAreaAllocator(machine, arch, aliasOracle, config);
    for (int core = 0; core < machine.coreCount(); core++) {
      rcuPending.add(new ArrayList<>());
    }
    if (context.syncTopLevel() != null) {
      preallocateTopLevel(machine.actingCore());
    }
    this.blocks =
        new VmapBlocks(
            this, areas, config.vmapBlockCycles(), machine.coreCount(), config.freeListAliasWalk());
    areas.setFragmentedBlocks(core -> blocks.purgeFragmentedAllCpus(core, true));
    this.percpu =
        new PercpuAllocator(
            this,
            areas,
            config.pcpuAllocCycles(),
            config.pageAllocCycles(),
            config.pageFreeCycles());
  }

  /** {@code lazy_max_pages()} for {@code onlineCpus}: {@code fls(cpus) × 32 MiB / PAGE_SIZE}. */
  public static long lazyMaxPages(int onlineCpus) {
    int fls = 32 - Integer.numberOfLeadingZeros(onlineCpus);
    return fls * (LAZY_BYTES_PER_FLS / PAGE_BYTES);
  }

  // Linux x86 preallocate_vmalloc_pages: the vmalloc range's top-level entries exist from boot,
  // so every process root copied from the kernel's shares every later vmalloc table.
  private void preallocateTopLevel(int core) {
    var format = machine.format();
    int topShift = format.levelShift(0);
    long span = 1L << topShift;
    for (long va = vmallocStartVa; Long.compareUnsigned(va, vmallocEndVa) < 0; va += span) {
      int index = format.index(va, 0);
      if (!format.isValid(memory.readDescriptor(context.kernelRootPfn(), index), 0)) {
        long child = context.tables().allocateTable(core);
        memory.writeDescriptor(
            context.kernelRootPfn(),
            index,
            format.encodeTable(child << PhysicalMemory.FRAME_SHIFT, 0));
      }
    }
    context.syncTopLevel().run();
  }

  public Machine machine() {
    return machine;
  }

  /** The arch layer vmalloc maps and flushes through. */
  public LinuxArch arch() {
    return arch;
  }

  public long vmallocStartVa() {
    return vmallocStartVa;
  }

  public long vmallocEndVa() {
    return vmallocEndVa;
  }

  /** {@code lazy_max_pages()} of this machine (every core online). */
  public long lazyMaxPages() {
    return areas.lazyMaxPages();
  }

  /** Purges of the lazy list so far; every lazily freed area is flushed by the next one. */
  public long purgeCount() {
    return areas.purgeCount();
  }

  /**
   * Purges that had detached lazy areas when they started; an area freed lazily is flushed once
   * {@link #purgeCount} exceeds this count as read after its free.
   */
  public long purgesStarted() {
    return areas.purgesStarted();
  }

  /** {@code vmap_lazy_nr}: pages of lazily freed areas not yet purged. */
  public long vmapLazyPages() {
    return areas.vmapLazyPages();
  }

  /** The vmap block allocator ({@code vm_map_ram} of small sizes). */
  public VmapBlocks blocks() {
    return blocks;
  }

  /** The per-CPU allocator's vmalloc-backed chunks ({@code __alloc_percpu}). */
  public PercpuAllocator percpu() {
    return percpu;
  }

  /** Installs the hook called at Linux's unlocked windows (race scenarios, tests). */
  public void setPreemptionHook(PreemptionHook preemptionHook) {
    areas.setPreemptionHook(preemptionHook);
  }

  /** The free-space tree (read-only use: tests and counters). */
  public FreeSpaceTree freeTree() {
    return areas.freeTree();
  }

  /** The live area containing {@code va}, or null. Costs nothing (a debugging lookup). */
  public VmapArea findArea(long va) {
    return areas.findArea(va);
  }

  /** Software walk of the kernel tables: the physical address {@code va} maps to, or -1. */
  public long kernelTranslate(long va) {
    return pageTables.translate(va);
  }

  /** Allocates a vmap_area ({@code alloc_vmap_area}, see {@link VmapAreaAllocator}); for tests. */
  VmapArea allocVmapArea(
      int core, long sizeBytes, long alignBytes, long vstart, long vend, int flags) {
    return areas.allocVmapArea(core, sizeBytes, alignBytes, vstart, vend, flags);
  }

  /** Purges every lazy area now ({@code purge_vmap_area_lazy}). */
  public boolean purgeVmapAreaLazy(int core) {
    return areas.purgeVmapAreaLazy(core);
  }

  /**
   * Checks that the allocator's trees and pools partition the vmalloc range and every live
   * vmalloc'd page translates to its frame (for tests; costs nothing).
   */
  void checkConsistency() {
    areas.checkConsistency(pageTables::translate);
  }

  // ---------------------------------------------------------------- vmalloc / vfree

  /** {@code vmalloc(size)}: page-aligned, not zeroed. */
  public long vmalloc(int core, long sizeBytes) {
    return vmallocNode(core, sizeBytes, PAGE_BYTES, false);
  }

  /** {@code vzalloc(size)}: zeroed pages. */
  public long vzalloc(int core, long sizeBytes) {
    return vmallocNode(core, sizeBytes, PAGE_BYTES, true);
  }

  /**
   * {@code __vmalloc_node(size, align, GFP_KERNEL [| __GFP_ZERO])}: reserves the size plus a guard
   * page, allocates one frame per page (zeroing it when asked), and maps each page.
   *
   * @param alignBytes a power of two (read unsigned)
   * @return the address, or 0 when the size is 0, no range fits, or memory ran out
   */
  public long vmallocNode(int core, long sizeBytes, long alignBytes, boolean zero) {
    long start = OP_VMALLOC.begin(machine, core, 0);
    runRcuCallbacks(core);
    vmallocCalls++;
    long va = vmallocPages(core, sizeBytes, alignBytes, zero);
    if (va == 0) {
      vmallocFailures++;
    }
    OP_VMALLOC.end(machine, core, va, start);
    return va;
  }

  private long vmallocPages(int core, long sizeBytes, long alignBytes, boolean zero) {
    if (sizeBytes <= 0
        || Long.bitCount(alignBytes) != 1
        || sizeBytes > memory.frameCount() * PAGE_BYTES) {
      return 0;
    }
    long mapBytes = (sizeBytes + PAGE_BYTES - 1) & -PAGE_BYTES;
    VmapArea area =
        areas.allocVmapArea(
            core,
            mapBytes + PAGE_BYTES,
            alignBytes,
            vmallocStartVa,
            vmallocEndVa,
            VmapArea.FLAG_OWNS_PAGES);
    if (area == null) {
      return 0;
    }
    int pages = (int) (mapBytes / PAGE_BYTES);
    long[] pfns = new long[pages];
    int allocated = 0;
    try {
      for (; allocated < pages; allocated++) {
        if (allocated > 0) {
          machine.interleave(
              core, "vm_area_alloc_pages:page"); // vm_area_alloc_pages: cond_resched between pages
        }
        pfns[allocated] = memory.allocate(FrameKind.KERNEL);
        machine.charge(core, pageAllocCycles + (zero ? pageZeroCycles : 0));
      }
    } catch (SimulatedOutOfMemoryException e) {
      for (int i = 0; i < allocated; i++) {
        memory.free(pfns[i]);
        machine.charge(core, pageFreeCycles);
      }
      // the area was never mapped: it goes back through the lazy path, as Linux's cleanup does
      VmapArea unlinked = areas.unlinkBusy(core, area.vaStart());
      areas.freeVmapAreaNoflush(core, unlinked);
      return 0;
    }
    mapArea(core, area, pfns, pages);
    return area.vaStart();
  }

  /**
   * {@code vmalloc_huge(size, GFP_KERNEL)}: with at least a PMD's worth of bytes the size is
   * rounded up to PMD blocks, the area aligned to a PMD, and each block mapped by one leaf (a table
   * left at that slot by earlier small mappings is first unhooked, flushed from every walk cache
   * and freed: {@code pmd_free_pte_page}). On arm64 with the {@code vmapContpte} variant on, sizes
   * from 64 KiB are mapped in 64 KiB-aligned runs of 16 contiguous-bit PTEs over contiguous frames.
   * Smaller sizes, or a failure to find contiguous frames, fall back to small pages, as Linux does.
   *
   * <p>{@code // MODEL:} the physically contiguous blocks come from never-used memory ({@link
   * PhysicalMemory#allocateContiguous}); freed, they return as single frames.
   *
   * @return the address, or 0
   */
  public long vmallocHuge(int core, long sizeBytes) {
    long start = OP_VMALLOC.begin(machine, core, 0);
    runRcuCallbacks(core);
    vmallocCalls++;
    int pmdLevel = machine.format().levels() - 2;
    int pmdShift = machine.format().levelShift(pmdLevel);
    long pmdBytes = 1L << pmdShift;
    long va = 0;
    long pteBlockBytes = arch.kernelMappings().vmapPteBlockBytes(sizeBytes);
    if (sizeBytes >= pmdBytes && machine.format().allowsLeaf(pmdLevel)) {
      va = vmallocBlocks(core, sizeBytes, pmdLevel, pmdBytes);
    } else if (pteBlockBytes != 0) {
      // arch_vmap_pte_supported_shift: the arch maps this size in blocks of PTEs (arm64 contpte)
      va = vmallocBlocks(core, sizeBytes, machine.format().levels() - 1, pteBlockBytes);
    }
    if (va == 0) {
      va = vmallocPages(core, sizeBytes, PAGE_BYTES, false);
    }
    if (va == 0) {
      vmallocFailures++;
    }
    OP_VMALLOC.end(machine, core, va, start);
    return va;
  }

  private long vmallocBlocks(int core, long sizeBytes, int level, long blockBytes) {
    long mapBytes = (sizeBytes + blockBytes - 1) & -blockBytes;
    VmapArea area =
        areas.allocVmapArea(
            core,
            mapBytes + PAGE_BYTES,
            blockBytes,
            vmallocStartVa,
            vmallocEndVa,
            VmapArea.FLAG_OWNS_PAGES);
    if (area == null) {
      return 0;
    }
    int framesPerBlock = (int) (blockBytes / PAGE_BYTES);
    int blocksNeeded = (int) (mapBytes / blockBytes);
    long[] pfns = new long[blocksNeeded * framesPerBlock];
    int got = 0;
    try {
      for (; got < blocksNeeded; got++) {
        long first = memory.allocateContiguous(framesPerBlock, FrameKind.KERNEL);
        machine.charge(core, pageAllocCycles * framesPerBlock);
        for (int i = 0; i < framesPerBlock; i++) {
          pfns[got * framesPerBlock + i] = first + i;
        }
      }
    } catch (SimulatedOutOfMemoryException e) {
      for (int i = 0; i < got * framesPerBlock; i++) {
        memory.free(pfns[i]);
        machine.charge(core, pageFreeCycles);
      }
      areas.freeVmapAreaNoflush(core, areas.unlinkBusy(core, area.vaStart()));
      return 0;
    }
    boolean pteBlocks = level == machine.format().levels() - 1;
    pageTables.beginBatch();
    for (int b = 0; b < blocksNeeded; b++) {
      // before every block, the first too: the allocation before it may have taken this core far
      // ahead of the others, and its entry must not be visible to them before its time
      machine.interleave(core, "vmap_huge:block");
      long blockVa = area.vaStart() + b * blockBytes;
      long pa = pfns[b * framesPerBlock] << PhysicalMemory.FRAME_SHIFT;
      if (pteBlocks) {
        pageTables.mapPteBlock(core, blockVa, pa, blockBytes);
      } else {
        // pmd_free_pte_page: vunmap never frees tables, so the slot may still hold an (empty)
        // table from earlier small mappings; the arch unhooks, flushes and frees it
        if (arch.kernelMappings().pmdFreePteTable(core, blockVa, this::pteTableCleared)) {
          tablesFreed++;
        }
        pageTables.mapLeaf(core, blockVa, pa, level);
      }
    }
    pageTables.endBatch(core);
    pagesMapped += pfns.length;
    hugeBlocksMapped += blocksNeeded;
    area.setMapping(pfns, pfns.length, Long.numberOfTrailingZeros(blockBytes));
    return area.vaStart();
  }

  // pmd_free_pte_page's window between clearing the entry and freeing the table
  private void pteTableCleared(int core) {
    areas.preempt(PreemptionHook.PMD_FREE_PTE_PAGE, core);
  }

  private void mapArea(int core, VmapArea area, long[] pfns, int pages) {
    mapPages(core, area.vaStart(), pfns, pages);
    pagesMapped += pages;
    area.setMapping(pfns, pages, 12);
  }

  // The VA one last-level table maps (2 MiB with 4 KiB pages on both ISAs).
  private static final long PTE_TABLE_SPAN_BYTES = 2L << 20;

  /** {@code vmap_pages_range}: one page entry per frame from {@code startVa}, as one batch. */
  void mapPages(int core, long startVa, long[] pfns, int count) {
    pageTables.beginBatch();
    for (int i = 0; i < count; i++) {
      if (i > 0 && ((startVa + i * PAGE_BYTES) & (PTE_TABLE_SPAN_BYTES - 1)) == 0) {
        machine.interleave(
            core, "vmap_pmd_range:next"); // between PTE tables, as vmap_pmd_range moves to the next
      }
      pageTables.mapLeaf(
          core,
          startVa + i * PAGE_BYTES,
          pfns[i] << PhysicalMemory.FRAME_SHIFT,
          machine.format().levels() - 1);
    }
    pageTables.endBatch(core);
  }

  /**
   * {@code vfree(addr)}: unlinks the area, clears its entries (no flush), puts it on the lazy list,
   * and frees its pages now. A null address does nothing; an address that starts no live area is
   * counted ({@code vfreeBadAddress}, Linux warns) and ignored.
   */
  public void vfree(int core, long va) {
    long start = OP_VFREE.begin(machine, core, va);
    vfreeCalls++;
    if (va != 0) {
      removeAndFree(core, va, true, "vfree");
    }
    OP_VFREE.end(machine, core, va, start);
    areas.runDeferredDrain(core);
  }

  /**
   * {@code vmap(pages, count)}: maps caller-owned frames into a new area with a guard page.
   *
   * @return the address, or 0
   */
  public long vmap(int core, long[] pfns, int count) {
    if (count <= 0 || count > pfns.length) {
      return 0;
    }
    long start = OP_VMAP.begin(machine, core, 0);
    VmapArea area =
        areas.allocVmapArea(
            core, (count + 1L) * PAGE_BYTES, PAGE_BYTES, vmallocStartVa, vmallocEndVa, 0);
    if (area == null) {
      OP_VMAP.endUnrecorded(machine, core, 0);
      return 0;
    }
    mapArea(core, area, java.util.Arrays.copyOf(pfns, count), count);
    OP_VMAP.end(machine, core, area.vaStart(), start);
    return area.vaStart();
  }

  /** {@code vunmap(addr)}: like {@link #vfree} but the frames stay the caller's. */
  public void vunmap(int core, long va) {
    long start = OP_VUNMAP.begin(machine, core, va);
    removeAndFree(core, va, false, "vunmap");
    OP_VUNMAP.end(machine, core, va, start);
    areas.runDeferredDrain(core);
  }

  private void removeAndFree(int core, long va, boolean freePages, String caller) {
    VmapArea area = areas.unlinkBusy(core, va);
    if (area == null || area.hasFlag(VmapArea.FLAG_RAM)) {
      if (area != null) { // not ours to free through this call: put it back
        areas.relinkBusy(area);
      }
      vfreeBadAddress++;
      return;
    }
    areas.touch(core, area, caller);
    long[] pfns = area.pfns();
    int pages = area.mappedPages();
    freeUnmapVmapArea(core, area);
    if (freePages && area.hasFlag(VmapArea.FLAG_OWNS_PAGES)) {
      for (int i = 0; i < pages; i++) {
        if (i > 0) {
          machine.interleave(core, "vfree:page"); // vfree: cond_resched between pages
        }
        memory.free(pfns[i]);
        machine.charge(core, pageFreeCycles);
      }
      pagesFreedNow += pages;
    }
  }

  /**
   * {@code free_unmap_vmap_area}: clear the area's entries without a flush, then free it lazily;
   * or, with {@code vunmapFlush=eager} (before 2.6.28), flush its range now and free it at once.
   */
  void freeUnmapVmapArea(int core, VmapArea area) {
    unmapNoflush(core, area.vaStart(), area.vaEnd());
    if (config.eagerVunmapFlush()) {
      areas.freeVmapAreaFlushed(core, area);
    } else {
      areas.freeVmapAreaNoflush(core, area);
    }
  }

  /** {@code vunmap_range_noflush}: clears the entries; the pages stay unflushed in every TLB. */
  void unmapNoflush(int core, long startVa, long endVa) {
    pageTables.unmapRange(core, startVa, endVa, aliasOracle::unmapped);
  }

  // ---------------------------------------------------------------- purge

  // ---------------------------------------------------------------- vm_map_ram

  /** {@code vm_map_ram(pages, count)}: a vmap block slot up to 64 pages, an own area above. */
  public long vmMapRam(int core, long[] pfns, int count) {
    long start = OP_VM_MAP_RAM.begin(machine, core, 0);
    long va = 0;
    if (count > 0 && count <= pfns.length) {
      if (count <= VmapBlocks.VMAP_MAX_ALLOC) {
        va = blocks.vbAlloc(core, count * PAGE_BYTES);
      } else {
        VmapArea area =
            areas.allocVmapArea(
                core,
                count * PAGE_BYTES,
                PAGE_BYTES,
                vmallocStartVa,
                vmallocEndVa,
                VmapArea.FLAG_RAM | VmapArea.FLAG_NO_GUARD);
        va = area == null ? 0 : area.vaStart();
      }
      if (va != 0) {
        mapPages(core, va, pfns, count);
        pagesMapped += count;
      }
    }
    OP_VM_MAP_RAM.end(machine, core, va, start);
    return va;
  }

  /** {@code vm_unmap_ram(mem, count)}: the count must match the mapping call. */
  public void vmUnmapRam(int core, long va, int count) {
    long start = OP_VM_UNMAP_RAM.begin(machine, core, va);
    if (count <= VmapBlocks.VMAP_MAX_ALLOC) {
      blocks.vbFree(core, va, count * PAGE_BYTES);
    } else {
      VmapArea area = areas.unlinkBusy(core, va);
      if (area == null || !area.hasFlag(VmapArea.FLAG_RAM)) {
        if (area != null) {
          areas.relinkBusy(area);
        }
        vfreeBadAddress++;
      } else {
        freeUnmapVmapArea(core, area);
      }
    }
    OP_VM_UNMAP_RAM.end(machine, core, va, start);
    areas.runDeferredDrain(core);
  }

  /**
   * {@code vm_unmap_aliases()}: when it returns, no TLB anywhere holds a translation of a vmalloc
   * address whose entry was cleared (the oracle checks this promise).
   */
  public void vmUnmapAliases(int core) {
    long start = OP_VM_UNMAP_ALIASES.begin(machine, core, 0);
    blocks.vmUnmapAliases(core);
    aliasOracle.promiseNoAliases(core, "vm_unmap_aliases", start);
    OP_VM_UNMAP_ALIASES.end(machine, core, 0, start);
  }

  // ---------------------------------------------------------------- kvfree_rcu

  /**
   * {@code kvfree_rcu(ptr)}: the vfree happens after a grace period, on this core, at its first
   * vmalloc call (or {@link #runRcuCallbacks}) at or after the period's end.
   *
   * <p>{@code // MODEL:} a fixed grace period ({@code rcuGracePeriodCycles}) and per-core batches
   * run by the queueing core; the one- and two-argument forms differ in Linux only in where the
   * pointer is kept, so they share this path.
   */
  public void kvfreeRcu(int core, long va) {
    machine.charge(core, lockCycles);
    rcuPending.get(core).add(new long[] {va, machine.now(core) + rcuGracePeriodCycles});
  }

  /**
   * Runs this core's kvfree_rcu frees whose grace period has ended; {@code force} waits for all.
   */
  public void runRcuCallbacks(int core, boolean force) {
    List<long[]> pending = rcuPending.get(core);
    if (pending.isEmpty()) {
      return;
    }
    if (force) {
      machine.clocks().waitUntil(core, pending.get(pending.size() - 1)[1]);
    }
    int done = 0;
    while (done < pending.size() && pending.get(done)[1] <= machine.now(core)) {
      removeAndFree(core, pending.get(done)[0], true, "kvfree_rcu");
      done++;
    }
    if (done > 0) {
      pending.subList(0, done).clear();
      areas.runDeferredDrain(core);
    }
  }

  private void runRcuCallbacks(int core) {
    runRcuCallbacks(core, false);
  }

  // ---------------------------------------------------------------- consistency

  // ---------------------------------------------------------------- counters

  /** The vmalloc counters for the result's {@code kernel} section. */
  public Map<String, Object> counters() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("vmallocCalls", vmallocCalls);
    c.put("vmallocFailures", vmallocFailures);
    c.put("vfreeCalls", vfreeCalls);
    c.put("vfreeBadAddress", vfreeBadAddress);
    c.put("vmapPagesMapped", pagesMapped);
    c.put("vmapHugeBlocksMapped", hugeBlocksMapped);
    c.put("vmapPteSyncs", arch.kernelMappings().kernelPtePublishes());
    c.put("vmapTablesFreed", tablesFreed);
    c.put("vmapPagesFreedAtOnce", pagesFreedNow);
    c.putAll(areas.counters());
    c.put("vmapUnflushedPages", (long) aliasOracle.unflushedPages());
    c.put("vmapAliasPagesChecked", aliasOracle.checks());
    c.putAll(blocks.counters());
    c.put("pcpuChunksCreated", percpu.chunksCreated());
    c.put("pcpuChunksDestroyed", percpu.chunksDestroyed());
    c.put("pcpuPagesPopulated", percpu.pagesPopulated());
    return c;
  }
}
