package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.oracle.AliasOracle;

/**
 * Linux's vmalloc (mm/vmalloc.c): the vmap_area allocator over the kernel's vmalloc range,
 * {@code vmalloc}/{@code vfree}, {@code vmap}/{@code vunmap}, lazy freeing with one TLB flush
 * per purge, the per-CPU vmap blocks behind {@code vm_map_ram} ({@link VmapBlocks}),
 * {@code vm_unmap_aliases}, and {@code kvfree_rcu}.
 *
 * <h3>Lazy freeing</h3>
 * {@code vfree} clears the area's entries, returns its pages at once, and puts the area on the
 * lazy list: its virtual range is not reusable yet and no TLB is flushed.
 * {@code vmap_lazy_nr} counts the lazy pages; above {@code lazy_max_pages() = fls(online CPUs)
 * × 32 MiB / PAGE_SIZE} the drain purges: one {@code flush_tlb_kernel_range} over the union of
 * the lazy ranges, then the ranges go back to the free tree ({@code __purge_vmap_area_lazy}).
 *
 * <h3>Cost</h3>
 * Each call pays from the kernel cost table: per tree node visited
 * ({@code vmapNodeVisitCycles}), per vmap_area object ({@code vmapAreaObjectCycles}), per lock
 * taken ({@code lockCycles}, with {@link SimLock} waits), per page allocated, zeroed and freed,
 * per descriptor written and table allocated, plus the arch flush policy's own instructions.
 *
 * <p>{@code // MODEL:} the 6.5–6.8 structure: one busy tree, one lazy tree and one free tree,
 * each under its own lock, and {@code vmap_purge_lock} around purges (no per-node pools).
 * The busy and lazy trees are sorted maps whose visits are charged as {@code ceil(log2(n + 1))}
 * nodes; all vmalloc addresses lie in the upper half, so signed key order is address order.
 * The drain work that Linux schedules when the lazy count passes the limit runs on the freeing
 * core right after the call that queued it; its cycles go to that core but not to the call's
 * latency.
 *
 * <p>Addresses are the kernel's virtual addresses; {@code 0} means failure, as in Linux.
 * Confined to the simulation thread.
 */
public final class Vmalloc {
  private static final KernelOperation OP_VMALLOC = KernelOperation.named("vmalloc");
  private static final KernelOperation OP_VFREE = KernelOperation.named("vfree");
  private static final KernelOperation OP_VMAP = KernelOperation.named("vmap");
  private static final KernelOperation OP_VUNMAP = KernelOperation.named("vunmap");
  private static final KernelOperation OP_DRAIN_VMAP_AREA_WORK = KernelOperation.named("drain_vmap_area_work");
  private static final KernelOperation OP_PURGE_VMAP_AREA_LAZY = KernelOperation.named("purge_vmap_area_lazy");
  private static final KernelOperation OP_VM_MAP_RAM = KernelOperation.named("vm_map_ram");
  private static final KernelOperation OP_VM_UNMAP_RAM = KernelOperation.named("vm_unmap_ram");
  private static final KernelOperation OP_VM_UNMAP_ALIASES = KernelOperation.named("vm_unmap_aliases");
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
  private final FreeSpaceTree freeTree;
  private final TreeMap<Long, VmapArea> busy = new TreeMap<>();
  private final TreeMap<Long, VmapArea> lazy = new TreeMap<>();
  private final KernelPageTables pageTables;
  private final AliasOracle aliasOracle;
  private final VmapBlocks blocks;
  private final PercpuAllocator percpu;
  private final VmapNodePool[] pools;
  private long poolHits;
  final SimLock freeLock = new SimLock("free_vmap_area_lock");
  final SimLock busyLock = new SimLock("vmap_area_lock");
  final SimLock lazyLock = new SimLock("purge_vmap_area_lock");
  final SimLock purgeLock = new SimLock("vmap_purge_lock");
  final long lockCycles;
  private final long nodeVisitCycles;
  private final long areaObjectCycles;
  private final long pageAllocCycles;
  private final long pageZeroCycles;
  private final long pageFreeCycles;
  private final long rcuGracePeriodCycles;
  private final boolean racyLazyPublish;
  private final long lazyMaxPages;
  private final List<List<long[]>> rcuPending = new ArrayList<>();
  private PreemptionHook hook = PreemptionHook.NONE;
  private boolean drainPending;
  private long nextAreaId = 1;
  private long vmapLazyPages;

  // counters
  private long vmallocCalls;
  private long vmallocFailures;
  private long vfreeCalls;
  private long vfreeBadAddress;
  private long purges;
  private long purgedAreas;
  private long purgedAreasMax;
  private long purgedPages;
  private long purgeFlushBytes;
  private long lazyPagesHighWater;
  private long kernelRangeFlushes;
  private long allocRetriesAfterPurge;
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
    this.freeTree = new FreeSpaceTree(vmallocStartVa, vmallocEndVa);
    this.lockCycles = config.lockCycles();
    this.nodeVisitCycles = config.vmapNodeVisitCycles();
    this.areaObjectCycles = config.vmapAreaObjectCycles();
    this.pageAllocCycles = config.pageAllocCycles();
    this.pageZeroCycles = config.pageZeroCycles();
    this.pageFreeCycles = config.pageFreeCycles();
    this.rcuGracePeriodCycles = config.rcuGracePeriodCycles();
    this.racyLazyPublish = config.racyLazyPublish();
    this.lazyMaxPages = lazyMaxPages(machine.coreCount());
    this.pageTables = new KernelPageTables(machine, context.tables(), context.kernelRootPfn(),
        config.pteWriteCycles(), arch.kernelMappings());
    this.aliasOracle = new AliasOracle(machine, pageTables::translate);
    for (int core = 0; core < machine.coreCount(); core++) {
      rcuPending.add(new ArrayList<>());
    }
    if (context.syncTopLevel() != null) {
      preallocateTopLevel(machine.actingCore());
    }
    this.blocks = new VmapBlocks(this, config.vmapBlockCycles(), machine.coreCount(), config.freeListAliasWalk());
    this.percpu = new PercpuAllocator(this, config.pcpuAllocCycles(), config.pageAllocCycles(),
        config.pageFreeCycles());
    // nr_vmap_nodes = clamp(num_possible_cpus(), 1, 128); with one node the pool path is off
    int nodes = Math.min(128, machine.coreCount());
    if (config.vmapNodes() && nodes > 1) {
      this.pools = new VmapNodePool[nodes];
      for (int node = 0; node < nodes; node++) {
        pools[node] = new VmapNodePool();
      }
    } else {
      this.pools = null;
    }
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
        memory.writeDescriptor(context.kernelRootPfn(), index,
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
    return lazyMaxPages;
  }

  /** Purges of the lazy list so far; every lazily freed area is flushed by the next one. */
  public long purgeCount() {
    return purges;
  }

  /** {@code vmap_lazy_nr}: pages of lazily freed areas not yet purged. */
  public long vmapLazyPages() {
    return vmapLazyPages;
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
    this.hook = preemptionHook == null ? PreemptionHook.NONE : preemptionHook;
  }

  /** The free-space tree (read-only use: tests and counters). */
  public FreeSpaceTree freeTree() {
    return freeTree;
  }

  /** The live area containing {@code va}, or null. Costs nothing (a debugging lookup). */
  public VmapArea findArea(long va) {
    Map.Entry<Long, VmapArea> entry = busy.floorEntry(va);
    if (entry == null || Long.compareUnsigned(va, entry.getValue().vaEnd()) >= 0) {
      return null;
    }
    return entry.getValue();
  }

  /** Software walk of the kernel tables: the physical address {@code va} maps to, or -1. */
  public long kernelTranslate(long va) {
    return pageTables.translate(va);
  }

  long kernelRangeFlushCount() {
    return kernelRangeFlushes;
  }

  KernelPageTables pageTables() {
    return pageTables;
  }

  AliasOracle aliasOracle() {
    return aliasOracle;
  }

  // ---------------------------------------------------------------- the vmap_area allocator

  /**
   * Allocates a vmap_area (Linux {@code alloc_vmap_area}): the lowest fit in the free tree,
   * purging the lazy areas (and every fragmented vmap block) once and retrying when the range
   * is exhausted, then inserting the area into the busy tree.
   *
   * @return the area, or null when even the retry found no space
   */
  VmapArea allocVmapArea(int core, long sizeBytes, long alignBytes, long vstart, long vend, int flags) {
    machine.charge(core, areaObjectCycles);
    int nodeId = -1;
    if (pools != null && vstart == vmallocStartVa && vend == vmallocEndVa) {
      nodeId = core % pools.length;
      long pooled = pools[nodeId].take(machine, core, lockCycles, sizeBytes, alignBytes);
      if (pooled != 0) {
        poolHits++;
        return insertBusy(core, new VmapArea(nextAreaId++, pooled, pooled + sizeBytes, flags), nodeId);
      }
    }
    boolean purged = false;
    while (true) {
      freeLock.acquire(machine, core, lockCycles);
      long visitsBefore = freeTree.nodesVisited();
      long va = freeTree.allocate(sizeBytes, alignBytes, vstart, vend, PAGE_BYTES);
      chargeVisits(core, freeTree.nodesVisited() - visitsBefore);
      freeLock.release(machine, core);
      if (va != FreeSpaceTree.NO_FIT) {
        return insertBusy(core, new VmapArea(nextAreaId++, va, va + sizeBytes, flags), nodeId);
      }
      if (purged) {
        machine.charge(core, areaObjectCycles);
        return null;
      }
      // reclaim_and_purge_vmap_areas: forced purge of fragmented blocks, then the lazy areas
      allocRetriesAfterPurge++;
      purgeLock.acquire(machine, core, lockCycles);
      blocks.purgeFragmentedAllCpus(core, true);
      purgeVmapAreaLazyLocked(core, -1L, 0L, false, true);
      purgeLock.release(machine, core);
      purged = true;
    }
  }

  private VmapArea insertBusy(int core, VmapArea area, int nodeId) {
    area.setNodeId(nodeId);
    busyLock.acquire(machine, core, lockCycles);
    chargeVisits(core, log2Visits(busy.size()));
    busy.put(area.vaStart(), area);
    busyLock.release(machine, core);
    return area;
  }

  /** Unlinks the busy area starting at {@code va} (Linux {@code find_unlink_vmap_area}), or null. */
  VmapArea unlinkBusy(int core, long va) {
    busyLock.acquire(machine, core, lockCycles);
    chargeVisits(core, log2Visits(busy.size()));
    VmapArea area = busy.remove(va);
    busyLock.release(machine, core);
    return area;
  }

  private void chargeVisits(int core, long visits) {
    machine.charge(core, visits * nodeVisitCycles);
  }

  private static long log2Visits(int size) {
    return 64 - Long.numberOfLeadingZeros(size + 1L);
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
   * {@code __vmalloc_node(size, align, GFP_KERNEL [| __GFP_ZERO])}: reserves the size plus a
   * guard page, allocates one frame per page (zeroing it when asked), and maps each page.
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
    if (sizeBytes <= 0 || Long.bitCount(alignBytes) != 1 || sizeBytes > memory.frameCount() * PAGE_BYTES) {
      return 0;
    }
    long mapBytes = (sizeBytes + PAGE_BYTES - 1) & -PAGE_BYTES;
    VmapArea area = allocVmapArea(core, mapBytes + PAGE_BYTES, alignBytes, vmallocStartVa, vmallocEndVa,
        VmapArea.FLAG_OWNS_PAGES);
    if (area == null) {
      return 0;
    }
    int pages = (int) (mapBytes / PAGE_BYTES);
    long[] pfns = new long[pages];
    int allocated = 0;
    try {
      for (; allocated < pages; allocated++) {
        pfns[allocated] = memory.allocate(FrameKind.KERNEL);
        machine.charge(core, pageAllocCycles + (zero ? pageZeroCycles : 0));
      }
    } catch (SimulatedOutOfMemoryException e) {
      for (int i = 0; i < allocated; i++) {
        memory.free(pfns[i]);
        machine.charge(core, pageFreeCycles);
      }
      // the area was never mapped: it goes back through the lazy path, as Linux's cleanup does
      VmapArea unlinked = unlinkBusy(core, area.vaStart());
      freeVmapAreaNoflush(core, unlinked);
      return 0;
    }
    mapArea(core, area, pfns, pages);
    return area.vaStart();
  }

  /**
   * {@code vmalloc_huge(size, GFP_KERNEL)}: with at least a PMD's worth of bytes the size is
   * rounded up to PMD blocks, the area aligned to a PMD, and each block mapped by one leaf
   * (a table left at that slot by earlier small mappings is first unhooked, flushed from
   * every walk cache and freed: {@code pmd_free_pte_page}). On arm64 with the
   * {@code vmapContpte} variant on, sizes from 64 KiB are mapped in 64 KiB-aligned runs of 16
   * contiguous-bit PTEs over contiguous frames. Smaller sizes, or a failure to find contiguous
   * frames, fall back to small pages, as Linux does.
   *
   * <p>{@code // MODEL:} the physically contiguous blocks come from never-used memory
   * ({@link PhysicalMemory#allocateContiguous}); freed, they return as single frames.
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
    VmapArea area = allocVmapArea(core, mapBytes + PAGE_BYTES, blockBytes, vmallocStartVa, vmallocEndVa,
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
      freeVmapAreaNoflush(core, unlinkBusy(core, area.vaStart()));
      return 0;
    }
    boolean pteBlocks = level == machine.format().levels() - 1;
    pageTables.beginBatch();
    for (int b = 0; b < blocksNeeded; b++) {
      long blockVa = area.vaStart() + b * blockBytes;
      long pa = pfns[b * framesPerBlock] << PhysicalMemory.FRAME_SHIFT;
      if (pteBlocks) {
        pageTables.mapPteBlock(core, blockVa, pa, blockBytes);
      } else {
        // pmd_free_pte_page: vunmap never frees tables, so the slot may still hold an (empty)
        // table from earlier small mappings; the arch unhooks, flushes and frees it
        if (arch.kernelMappings().pmdFreePteTable(core, blockVa)) {
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

  private void mapArea(int core, VmapArea area, long[] pfns, int pages) {
    mapPages(core, area.vaStart(), pfns, pages);
    pagesMapped += pages;
    area.setMapping(pfns, pages, 12);
  }

  /** {@code vmap_pages_range}: one page entry per frame from {@code startVa}, as one batch. */
  void mapPages(int core, long startVa, long[] pfns, int count) {
    pageTables.beginBatch();
    for (int i = 0; i < count; i++) {
      pageTables.mapLeaf(core, startVa + i * PAGE_BYTES, pfns[i] << PhysicalMemory.FRAME_SHIFT,
          machine.format().levels() - 1);
    }
    pageTables.endBatch(core);
  }

  /**
   * {@code vfree(addr)}: unlinks the area, clears its entries (no flush), puts it on the lazy
   * list, and frees its pages now. A null address does nothing; an address that starts no
   * live area is counted ({@code vfreeBadAddress}, Linux warns) and ignored.
   */
  public void vfree(int core, long va) {
    long start = OP_VFREE.begin(machine, core, va);
    vfreeCalls++;
    if (va != 0) {
      removeAndFree(core, va, true, "vfree");
    }
    OP_VFREE.end(machine, core, va, start);
    runDeferredDrain(core);
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
    VmapArea area = allocVmapArea(core, (count + 1L) * PAGE_BYTES, PAGE_BYTES, vmallocStartVa, vmallocEndVa, 0);
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
    runDeferredDrain(core);
  }

  private void removeAndFree(int core, long va, boolean freePages, String caller) {
    VmapArea area = unlinkBusy(core, va);
    if (area == null || area.hasFlag(VmapArea.FLAG_RAM)) {
      if (area != null) { // not ours to free through this call: put it back
        busy.put(va, area);
      }
      vfreeBadAddress++;
      return;
    }
    touch(core, area, caller);
    long[] pfns = area.pfns();
    int pages = area.mappedPages();
    freeUnmapVmapArea(core, area);
    if (freePages && area.hasFlag(VmapArea.FLAG_OWNS_PAGES)) {
      for (int i = 0; i < pages; i++) {
        memory.free(pfns[i]);
        machine.charge(core, pageFreeCycles);
      }
      pagesFreedNow += pages;
    }
  }

  /** {@code free_unmap_vmap_area}: clear the area's entries without a flush, then free it lazily. */
  void freeUnmapVmapArea(int core, VmapArea area) {
    unmapNoflush(core, area.vaStart(), area.vaEnd());
    freeVmapAreaNoflush(core, area);
  }

  /** {@code vunmap_range_noflush}: clears the entries; the pages stay unflushed in every TLB. */
  void unmapNoflush(int core, long startVa, long endVa) {
    pageTables.unmapRange(core, startVa, endVa, aliasOracle::unmapped);
  }

  /**
   * {@code free_vmap_area_noflush}: adds the area's pages to {@code vmap_lazy_nr} and publishes
   * it on the lazy list. In the fixed order the count is read from the area before it is
   * published (after that a purge on another CPU may release it); the {@code racy} variant
   * publishes first and reads it afterwards, the 2016 bug.
   */
  void freeVmapAreaNoflush(int core, VmapArea area) {
    long lazyPages;
    if (!racyLazyPublish) {
      touch(core, area, "free_vmap_area_noflush");
      lazyPages = vmapLazyPages += area.pages();
      publishLazy(core, area);
      hook.reached(PreemptionHook.LAZY_PUBLISHED, core);
    } else {
      publishLazy(core, area);
      hook.reached(PreemptionHook.LAZY_PUBLISHED, core);
      touch(core, area, "free_vmap_area_noflush (racy publish)");
      lazyPages = vmapLazyPages += area.pages();
    }
    lazyPagesHighWater = Math.max(lazyPagesHighWater, lazyPages);
    if (lazyPages > lazyMaxPages) {
      drainPending = true; // schedule_work(&drain_vmap_work)
    }
  }

  private void publishLazy(int core, VmapArea area) {
    lazyLock.acquire(machine, core, lockCycles);
    chargeVisits(core, log2Visits(lazy.size()));
    lazy.put(area.vaStart(), area);
    lazyLock.release(machine, core);
  }

  /** Reports KERNEL_UAF when {@code area} has been released. */
  void touch(int core, VmapArea area, String where) {
    if (area.isReleased()) {
      machine.oracle().report(ViolationKind.KERNEL_UAF, core, machine.now(core), area.vaStart(), -1, -1,
          where + " read " + area + " after the purge released it");
    }
  }

  // ---------------------------------------------------------------- purge

  private void runDeferredDrain(int core) {
    if (!drainPending) {
      return;
    }
    drainPending = false;
    long start = OP_DRAIN_VMAP_AREA_WORK.begin(machine, core, 0);
    purgeLock.acquire(machine, core, lockCycles);
    purgeVmapAreaLazyLocked(core);
    purgeLock.release(machine, core);
    OP_DRAIN_VMAP_AREA_WORK.end(machine, core, 0, start);
  }

  /** Purges every lazy area now ({@code purge_vmap_area_lazy}). */
  public boolean purgeVmapAreaLazy(int core) {
    purgeLock.acquire(machine, core, lockCycles);
    boolean purged = purgeVmapAreaLazyLocked(core);
    purgeLock.release(machine, core);
    return purged;
  }

  /** {@code __purge_vmap_area_lazy(ULONG_MAX, 0)}; the caller holds the purge lock. */
  boolean purgeVmapAreaLazyLocked(int core) {
    return purgeVmapAreaLazyLocked(core, -1L, 0L, false, false);
  }

  /**
   * {@code __purge_vmap_area_lazy(start, end)}: detaches the lazy list, widens
   * {@code [start, end)} over it, issues one {@code flush_tlb_kernel_range}, and only then
   * returns each area's range to the free tree. With nothing lazy it flushes nothing.
   *
   * @param startVa {@code ULONG_MAX} ({@code -1}) for "no range yet"
   * <p>With vmap nodes (6.9+) each node's pools first give back a quarter of their ranges to
   * the free tree ({@code decay_va_pool_node}; all of them with {@code fullPoolDecay}), and a
   * purged range of at most 256 pages that carries a node id refills that node's pool instead
   * of the free tree, unless {@code fullPoolDecay}.
   *
   * @param alsoFlush flush {@code [startVa, endVa)} even when nothing is lazy (the caller's
   *     own dirty ranges)
   * @param fullPoolDecay the reclaim path: empty the pools, refill none
   * @return whether any area was purged
   */
  boolean purgeVmapAreaLazyLocked(int core, long startVa, long endVa, boolean alsoFlush, boolean fullPoolDecay) {
    long start = OP_PURGE_VMAP_AREA_LAZY.begin(machine, core, 0);
    if (pools != null) {
      for (VmapNodePool pool : pools) {
        pool.decay(machine, core, lockCycles, fullPoolDecay, this::returnToFreeTree);
      }
    }
    lazyLock.acquire(machine, core, lockCycles);
    List<VmapArea> detached = new ArrayList<>(lazy.values());
    lazy.clear();
    lazyLock.release(machine, core);
    if (detached.isEmpty()) {
      if (alsoFlush) {
        flushKernelRange(core, startVa, endVa, "vm_unmap_aliases flush");
      }
      OP_PURGE_VMAP_AREA_LAZY.endUnrecorded(machine, core, 0);
      return false;
    }
    long low = startVa;
    long high = endVa;
    for (VmapArea area : detached) {
      low = Long.compareUnsigned(area.vaStart(), low) < 0 ? area.vaStart() : low;
      high = Long.compareUnsigned(area.vaEnd(), high) > 0 ? area.vaEnd() : high;
    }
    flushKernelRange(core, low, high, "the purge's flush_tlb_kernel_range");
    long pages = 0;
    freeLock.acquire(machine, core, lockCycles);
    for (VmapArea area : detached) {
      pages += area.pages();
      area.release();
      if (pools != null && !fullPoolDecay && area.nodeId() >= 0
          && pools[area.nodeId()].offer(machine, core, lockCycles, area.vaStart(), area.vaEnd())) {
        continue;
      }
      long visitsBefore = freeTree.nodesVisited();
      freeTree.insertFree(area.vaStart(), area.vaEnd());
      chargeVisits(core, freeTree.nodesVisited() - visitsBefore);
      machine.charge(core, areaObjectCycles);
    }
    freeLock.release(machine, core);
    vmapLazyPages -= pages;
    purges++;
    purgedAreas += detached.size();
    purgedAreasMax = Math.max(purgedAreasMax, detached.size());
    purgedPages += pages;
    OP_PURGE_VMAP_AREA_LAZY.end(machine, core, 0, start);
    return true;
  }

  // decay_va_pool_node: a pooled range merges back into the free tree
  private void returnToFreeTree(int core, long startVa, long endVa) {
    freeLock.acquire(machine, core, lockCycles);
    long visitsBefore = freeTree.nodesVisited();
    freeTree.insertFree(startVa, endVa);
    chargeVisits(core, freeTree.nodesVisited() - visitsBefore);
    machine.charge(core, areaObjectCycles);
    freeLock.release(machine, core);
  }

  /** {@code flush_tlb_kernel_range} through the arch policy, then the alias check of the range. */
  void flushKernelRange(int core, long startVa, long endVa, String what) {
    kernelRangeFlushes++;
    purgeFlushBytes += endVa - startVa;
    arch.tlb().flushTlbKernelRange(core, startVa, endVa);
    aliasOracle.flushCompleted(core, startVa, endVa, what + " [0x" + Long.toHexString(startVa) + ", 0x"
        + Long.toHexString(endVa) + ")");
  }

  // ---------------------------------------------------------------- vm_map_ram

  /** {@code vm_map_ram(pages, count)}: a vmap block slot up to 64 pages, an own area above. */
  public long vmMapRam(int core, long[] pfns, int count) {
    long start = OP_VM_MAP_RAM.begin(machine, core, 0);
    long va = 0;
    if (count > 0 && count <= pfns.length) {
      if (count <= VmapBlocks.VMAP_MAX_ALLOC) {
        va = blocks.vbAlloc(core, count * PAGE_BYTES);
      } else {
        VmapArea area = allocVmapArea(core, count * PAGE_BYTES, PAGE_BYTES, vmallocStartVa, vmallocEndVa,
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
      VmapArea area = unlinkBusy(core, va);
      if (area == null || !area.hasFlag(VmapArea.FLAG_RAM)) {
        if (area != null) {
          busy.put(va, area);
        }
        vfreeBadAddress++;
      } else {
        freeUnmapVmapArea(core, area);
      }
    }
    OP_VM_UNMAP_RAM.end(machine, core, va, start);
    runDeferredDrain(core);
  }

  /**
   * {@code vm_unmap_aliases()}: when it returns, no TLB anywhere holds a translation of a
   * vmalloc address whose entry was cleared (the oracle checks this promise).
   */
  public void vmUnmapAliases(int core) {
    long start = OP_VM_UNMAP_ALIASES.begin(machine, core, 0);
    blocks.vmUnmapAliases(core);
    aliasOracle.promiseNoAliases(core, "vm_unmap_aliases");
    OP_VM_UNMAP_ALIASES.end(machine, core, 0, start);
  }

  // ---------------------------------------------------------------- kvfree_rcu

  /**
   * {@code kvfree_rcu(ptr)}: the vfree happens after a grace period, on this core, at its
   * first vmalloc call (or {@link #runRcuCallbacks}) at or after the period's end.
   *
   * <p>{@code // MODEL:} a fixed grace period ({@code rcuGracePeriodCycles}) and per-core
   * batches run by the queueing core; the one- and two-argument forms differ in Linux only
   * in where the pointer is kept, so they share this path.
   */
  public void kvfreeRcu(int core, long va) {
    machine.charge(core, lockCycles);
    rcuPending.get(core).add(new long[] {va, machine.now(core) + rcuGracePeriodCycles});
  }

  /** Runs this core's kvfree_rcu frees whose grace period has ended; {@code force} waits for all. */
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
      runDeferredDrain(core);
    }
  }

  private void runRcuCallbacks(int core) {
    runRcuCallbacks(core, false);
  }

  // ---------------------------------------------------------------- consistency

  /**
   * Checks that the free tree, the node pools, the busy areas and the lazy areas partition the
   * vmalloc range exactly, that {@code vmap_lazy_nr} equals the lazy areas' pages, and that
   * every live vmalloc'd page translates to its frame. For tests; costs nothing.
   *
   * @throws IllegalStateException naming the first broken property
   */
  void checkConsistency() {
    freeTree.checkInvariants();
    TreeMap<Long, Long> ranges = new TreeMap<>(Long::compareUnsigned);
    long[] free = freeTree.blocks();
    for (int i = 0; i < free.length; i += 2) {
      addRange(ranges, free[i], free[i + 1], "free");
    }
    if (pools != null) {
      for (VmapNodePool pool : pools) {
        pool.forEachRange((start, end) -> addRange(ranges, start, end, "pooled"));
      }
    }
    long lazyPages = 0;
    for (VmapArea area : lazy.values()) {
      addRange(ranges, area.vaStart(), area.vaEnd(), "lazy");
      lazyPages += area.pages();
    }
    for (VmapArea area : busy.values()) {
      addRange(ranges, area.vaStart(), area.vaEnd(), "busy");
      for (int i = 0; i < area.mappedPages() && area.pfns() != null; i++) {
        long pa = pageTables.translate(area.vaStart() + i * PAGE_BYTES);
        if (pa != area.pfns()[i] << PhysicalMemory.FRAME_SHIFT) {
          throw new IllegalStateException(area + " page " + i + " translates to 0x" + Long.toHexString(pa));
        }
      }
    }
    if (lazyPages != vmapLazyPages) {
      throw new IllegalStateException("vmap_lazy_nr " + vmapLazyPages + " but the lazy areas hold " + lazyPages);
    }
    long expected = vmallocStartVa;
    for (Map.Entry<Long, Long> range : ranges.entrySet()) {
      if (range.getKey() != expected) {
        throw new IllegalStateException("gap or overlap at 0x" + Long.toHexString(expected) + " (next range at 0x"
            + Long.toHexString(range.getKey()) + ")");
      }
      expected = range.getValue();
    }
    if (expected != vmallocEndVa) {
      throw new IllegalStateException("ranges end at 0x" + Long.toHexString(expected));
    }
  }

  private static void addRange(TreeMap<Long, Long> ranges, long start, long end, String what) {
    if (ranges.put(start, end) != null) {
      throw new IllegalStateException(what + " range at 0x" + Long.toHexString(start) + " is held twice");
    }
  }

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
    c.put("vmapLazyMaxPages", lazyMaxPages);
    c.put("vmapLazyPages", vmapLazyPages);
    c.put("vmapLazyPagesHighWater", lazyPagesHighWater);
    c.put("vmapPurges", purges);
    c.put("vmapPurgedAreas", purgedAreas);
    c.put("vmapPurgedAreasMax", purgedAreasMax);
    c.put("vmapPurgedPages", purgedPages);
    c.put("vmapKernelRangeFlushes", kernelRangeFlushes);
    c.put("vmapFlushedBytes", purgeFlushBytes);
    c.put("vmapAllocRetriesAfterPurge", allocRetriesAfterPurge);
    c.put("vmapPoolHits", poolHits);
    long pooled = 0;
    if (pools != null) {
      for (VmapNodePool pool : pools) {
        pooled += pool.size();
      }
    }
    c.put("vmapPoolAreas", pooled);
    c.put("vmapFreeBlocks", (long) freeTree.blockCount());
    c.put("vmapBusyAreas", (long) busy.size());
    c.put("vmapLockWaitCycles", freeLock.waitCycles() + busyLock.waitCycles() + lazyLock.waitCycles()
        + purgeLock.waitCycles());
    c.put("vmapUnflushedPages", (long) aliasOracle.unflushedPages());
    c.put("vmapAliasPagesChecked", aliasOracle.checks());
    c.putAll(blocks.counters());
    c.put("pcpuChunksCreated", percpu.chunksCreated());
    c.put("pcpuChunksDestroyed", percpu.chunksDestroyed());
    c.put("pcpuPagesPopulated", percpu.pagesPopulated());
    return c;
  }
}
