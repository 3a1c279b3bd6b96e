package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.lock.SimLock;
import org.mmuemu.kernel.oracle.AliasOracle;

/**
 * Linux's vmap_area allocator (the lower half of mm/vmalloc.c): the free-space tree over the
 * vmalloc range (augmented with the largest free block below each node), the busy and lazy trees,
 * the 6.9+ per-node pools, lazy freeing ({@code vmap_lazy_nr} against {@code lazy_max_pages()}) and
 * the purge with its one {@code flush_tlb_kernel_range}. The API over it ({@link Vmalloc}, {@link
 * VmapBlocks}, {@link PercpuAllocator}) reaches it only through these methods.
 *
 * <p>{@code // MODEL:} the 6.5-6.8 structure: one busy tree, one lazy tree and one free tree, each
 * under its own lock, and {@code vmap_purge_lock} around purges; with {@code vmapNodes=on} (6.9+)
 * the busy tree is split into one tree per vmap node, each under its own lock, an area living in
 * the node of its start address ({@code addr_to_node_id}: 64 KiB zones striped over the nodes),
 * besides the per-node pools. The lazy tree stays global (6.9 keeps per-node lazy lists too). A
 * visit of the busy or lazy tree is charged as {@code ceil(log2(n + 1))} nodes; on the host the
 * busy trees are hash maps ({@link BusyAreas}) and the lazy tree is a list the purge sorts by
 * address (all vmalloc addresses lie in the upper half, so signed order is address order). Confined
 * to the simulation thread.
 */
final class VmapAreaAllocator {
  private static final KernelOperation OP_DRAIN_VMAP_AREA_WORK =
      KernelOperation.named("drain_vmap_area_work");
  private static final KernelOperation OP_PURGE_VMAP_AREA_LAZY =
      KernelOperation.named("purge_vmap_area_lazy");

  /**
   * What a reclaiming allocation purges before the lazy areas: every CPU's fragmented vmap blocks.
   */
  @FunctionalInterface
  interface FragmentedBlocks {
    void purgeAll(int core);
  }

  private final Machine machine;
  private final LinuxArch arch;
  private final AliasOracle aliasOracle;
  private final long vmallocStartVa;
  private final long vmallocEndVa;
  private final FreeSpaceTree freeTree;

  /** The busy trees: one per vmap node with {@code vmapNodes=on}, else one. */
  private final BusyAreas busy;

  /**
   * The lazy tree, in the order the areas were published: an area is published once between purges
   * and lazy ranges are disjoint, so no two share a start and sorting gives the tree's order.
   */
  private final List<VmapArea> lazy = new ArrayList<>();

  private final VmapNodePool[] pools;
  private final SimLock freeLock = new SimLock("free_vmap_area_lock");
  private final SimLock[] busyLocks;
  private final SimLock lazyLock = new SimLock("purge_vmap_area_lock");
  private final SimLock purgeLock = new SimLock("vmap_purge_lock");
  private final long lockCycles;
  private final long nodeVisitCycles;
  private final long areaObjectCycles;
  private final boolean racyLazyPublish;
  private final long lazyMaxPages;
  private FragmentedBlocks fragmentedBlocks = core -> {};
  private PreemptionHook hook = PreemptionHook.NONE;
  private boolean drainPending;
  private long nextAreaId = 1;
  private long vmapLazyPages;
  private long poolHits;
  private long purges;
  private long purgesStarted;
  private long purgedAreas;
  private long purgedAreasMax;
  private long purgedPages;
  private long purgeFlushBytes;
  private long lazyPagesHighWater;
  private long kernelRangeFlushes;
  private long eagerFlushes;
  private long allocRetriesAfterPurge;

  VmapAreaAllocator(
      Machine machine, LinuxArch arch, AliasOracle aliasOracle, VmallocConfig config) {
    this.machine = machine;
    this.arch = arch;
    this.aliasOracle = aliasOracle;
    this.vmallocStartVa = arch.layout().vmallocStartVa();
    this.vmallocEndVa = arch.layout().vmallocEndVa();
    this.freeTree = new FreeSpaceTree(vmallocStartVa, vmallocEndVa);
    this.lockCycles = config.lockCycles();
    this.nodeVisitCycles = config.vmapNodeVisitCycles();
    this.areaObjectCycles = config.vmapAreaObjectCycles();
    this.racyLazyPublish = config.racyLazyPublish();
    this.lazyMaxPages = Vmalloc.lazyMaxPages(machine.coreCount());
    // nr_vmap_nodes = clamp(num_possible_cpus(), 1, 128); with one node the pool path is off
    int nodes = Math.min(128, machine.coreCount());
    if (config.vmapNodes() && nodes > 1) {
      this.pools = new VmapNodePool[nodes];
      this.busyLocks = new SimLock[nodes];
      for (int node = 0; node < nodes; node++) {
        pools[node] = new VmapNodePool();
        busyLocks[node] = new SimLock("vmap_node[" + node + "].busy.lock");
      }
    } else {
      this.pools = null;
      this.busyLocks = new SimLock[] {new SimLock("vmap_area_lock")};
    }
    this.busy = new BusyAreas(busyLocks.length);
  }

  /**
   * Sets what a reclaiming allocation purges first (the vmap blocks, created after this allocator).
   */
  void setFragmentedBlocks(FragmentedBlocks blocks) {
    this.fragmentedBlocks = blocks;
  }

  void setPreemptionHook(PreemptionHook preemptionHook) {
    this.hook = preemptionHook == null ? PreemptionHook.NONE : preemptionHook;
  }

  /**
   * {@code core} reaches the named preemption {@code point} of vmalloc ({@link PreemptionHook}).
   */
  void preempt(String point, int core) {
    hook.preempt(machine, point, core);
  }

  long vmallocStartVa() {
    return vmallocStartVa;
  }

  long vmallocEndVa() {
    return vmallocEndVa;
  }

  /** An uncontended lock's cost, for the locks the API layers take themselves. */
  long lockCycles() {
    return lockCycles;
  }

  /** {@code vmap_purge_lock}, which {@code vm_unmap_aliases} holds around its own purge. */
  SimLock purgeLock() {
    return purgeLock;
  }

  long lazyMaxPages() {
    return lazyMaxPages;
  }

  long vmapLazyPages() {
    return vmapLazyPages;
  }

  long purgeCount() {
    return purges;
  }

  /**
   * Purges that have detached a non-empty lazy list so far; purges run one at a time (under {@code
   * vmap_purge_lock}), so the n-th started is the n-th counted by {@link #purgeCount}.
   */
  long purgesStarted() {
    return purgesStarted;
  }

  long kernelRangeFlushCount() {
    return kernelRangeFlushes;
  }

  FreeSpaceTree freeTree() {
    return freeTree;
  }

  /** The live area containing {@code va}, or null. Costs nothing (a debugging lookup). */
  VmapArea findArea(long va) {
    return busy.containing(va);
  }

  /** Puts back an area a caller unlinked but may not free through its call. */
  void relinkBusy(VmapArea area) {
    busy.insert(area);
  }

  /**
   * Allocates a vmap_area (Linux {@code alloc_vmap_area}): the lowest fit in the free tree, purging
   * the lazy areas (and every fragmented vmap block) once and retrying when the range is exhausted,
   * then inserting the area into the busy tree.
   *
   * @return the area, or null when even the retry found no space
   */
  VmapArea allocVmapArea(
      int core, long sizeBytes, long alignBytes, long vstart, long vend, int flags) {
    machine.charge(core, areaObjectCycles);
    int nodeId = -1;
    if (pools != null && vstart == vmallocStartVa && vend == vmallocEndVa) {
      nodeId = core % pools.length;
      long pooled = pools[nodeId].take(machine, core, lockCycles, sizeBytes, alignBytes);
      if (pooled != 0) {
        poolHits++;
        return insertBusy(
            core, new VmapArea(nextAreaId++, pooled, pooled + sizeBytes, flags), nodeId);
      }
    }
    boolean purged = false;
    while (true) {
      freeLock.acquire(machine, core, lockCycles);
      long visitsBefore = freeTree.nodesVisited();
      long va = freeTree.allocate(sizeBytes, alignBytes, vstart, vend, Vmalloc.PAGE_BYTES);
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
      fragmentedBlocks.purgeAll(core);
      purgeVmapAreaLazyLocked(core, -1L, 0L, false, true);
      purgeLock.release(machine, core);
      purged = true;
    }
  }

  private VmapArea insertBusy(int core, VmapArea area, int nodeId) {
    area.setNodeId(nodeId);
    int node = busy.nodeOf(area.vaStart());
    busyLocks[node].acquire(machine, core, lockCycles);
    chargeVisits(core, log2Visits(busy.size(node)));
    busy.insert(area);
    busyLocks[node].release(machine, core);
    return area;
  }

  /**
   * Unlinks the busy area starting at {@code va} (Linux {@code find_unlink_vmap_area}), or null:
   * the node of {@code va} first, then the others in turn, each under its own lock.
   */
  VmapArea unlinkBusy(int core, long va) {
    int first = busy.nodeOf(va);
    for (int i = 0; i < busy.nodeCount(); i++) {
      int node = (first + i) % busy.nodeCount();
      busyLocks[node].acquire(machine, core, lockCycles);
      chargeVisits(core, log2Visits(busy.size(node)));
      VmapArea area = busy.remove(node, va);
      busyLocks[node].release(machine, core);
      if (area != null) {
        return area;
      }
    }
    return null;
  }

  private void chargeVisits(int core, long visits) {
    machine.charge(core, visits * nodeVisitCycles);
  }

  private static long log2Visits(int size) {
    return 64 - Long.numberOfLeadingZeros(size + 1L);
  }

  /**
   * {@code free_vmap_area_noflush}: adds the area's pages to {@code vmap_lazy_nr} and publishes it
   * on the lazy list. In the fixed order the count is read from the area before it is published
   * (after that a purge on another CPU may release it); the {@code racy} variant publishes first
   * and reads it afterwards, the 2016 bug.
   */
  void freeVmapAreaNoflush(int core, VmapArea area) {
    long lazyPages;
    if (!racyLazyPublish) {
      touch(core, area, "free_vmap_area_noflush");
      lazyPages = vmapLazyPages += area.pages();
      publishLazy(core, area);
      hook.preempt(machine, PreemptionHook.LAZY_PUBLISHED, core);
    } else {
      publishLazy(core, area);
      hook.preempt(machine, PreemptionHook.LAZY_PUBLISHED, core);
      touch(core, area, "free_vmap_area_noflush (racy publish)");
      lazyPages = vmapLazyPages += area.pages();
    }
    lazyPagesHighWater = Math.max(lazyPagesHighWater, lazyPages);
    if (lazyPages > lazyMaxPages) {
      drainPending = true; // schedule_work(&drain_vmap_work)
    }
  }

  /**
   * The pre-2.6.28 free ({@code vunmapFlush=eager}): {@code flush_tlb_kernel_range} over the area,
   * whose entries the caller cleared, then the range goes straight back to the free space, with no
   * lazy list and no purge. Counter: {@code vmapEagerFlushes}.
   *
   * <p>{@code // MODEL:} the old kernel kept areas on the {@code vmlist} linked list under one
   * rwlock; here the range returns to today's free tree (the cost of a tree insert, not of the list
   * walk), so the variant isolates the flush policy from the allocator. vmap blocks and the per-CPU
   * allocator's areas, which came with or after the lazy scheme, stay lazy.
   */
  void freeVmapAreaFlushed(int core, VmapArea area) {
    touch(core, area, "vunmap (eager flush)");
    flushKernelRange(core, area.vaStart(), area.vaEnd(), "vunmap's eager flush_tlb_kernel_range");
    eagerFlushes++;
    area.release();
    returnToFreeTree(core, area.vaStart(), area.vaEnd());
  }

  private void publishLazy(int core, VmapArea area) {
    lazyLock.acquire(machine, core, lockCycles);
    chargeVisits(core, log2Visits(lazy.size()));
    lazy.add(area);
    lazyLock.release(machine, core);
  }

  /** Reports KERNEL_UAF when {@code area} has been released. */
  void touch(int core, VmapArea area, String where) {
    if (area.isReleased()) {
      machine
          .oracle()
          .report(
              ViolationKind.KERNEL_UAF,
              core,
              machine.now(core),
              area.vaStart(),
              -1,
              -1,
              where + " read " + area + " after the purge released it");
    }
  }

  /** Runs the drain that a lazy free scheduled, if any ({@code drain_vmap_work}). */
  void runDeferredDrain(int core) {
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
   * {@code __purge_vmap_area_lazy(start, end)}: detaches the lazy list, widens {@code [start, end)}
   * over it, issues one {@code flush_tlb_kernel_range}, and only then returns each area's range to
   * the free tree. With nothing lazy it flushes nothing.
   *
   * @param startVa {@code ULONG_MAX} ({@code -1}) for "no range yet"
   *     <p>With vmap nodes (6.9+) each node's pools first give back a quarter of their ranges to
   *     the free tree ({@code decay_va_pool_node}; all of them with {@code fullPoolDecay}), and a
   *     purged range of at most 256 pages that carries a node id refills that node's pool instead
   *     of the free tree, unless {@code fullPoolDecay}.
   * @param alsoFlush flush {@code [startVa, endVa)} even when nothing is lazy (the caller's own
   *     dirty ranges)
   * @param fullPoolDecay the reclaim path: empty the pools, refill none
   * @return whether any area was purged
   */
  boolean purgeVmapAreaLazyLocked(
      int core, long startVa, long endVa, boolean alsoFlush, boolean fullPoolDecay) {
    long start = OP_PURGE_VMAP_AREA_LAZY.begin(machine, core, 0);
    if (pools != null) {
      for (VmapNodePool pool : pools) {
        pool.decay(machine, core, lockCycles, fullPoolDecay, this::returnToFreeTree);
      }
    }
    lazyLock.acquire(machine, core, lockCycles);
    List<VmapArea> detached = new ArrayList<>(lazy);
    detached.sort(Comparator.comparingLong(VmapArea::vaStart));
    lazy.clear();
    lazyLock.release(machine, core);
    if (!detached.isEmpty()) {
      purgesStarted++;
    }
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
    boolean first = true;
    for (VmapArea area : detached) {
      if (!first) {
        machine.interleave(core, "purge:area"); // between areas, as cond_resched_lock allows
      }
      first = false;
      pages += area.pages();
      area.release();
      if (pools != null
          && !fullPoolDecay
          && area.nodeId() >= 0
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
    long flushStart = machine.now(core);
    arch.tlb().flushTlbKernelRange(core, startVa, endVa);
    aliasOracle.flushCompleted(
        core,
        startVa,
        endVa,
        what + " [0x" + Long.toHexString(startVa) + ", 0x" + Long.toHexString(endVa) + ")",
        flushStart);
  }

  /**
   * Checks that the free tree, the node pools, the busy areas and the lazy areas partition the
   * vmalloc range exactly, that {@code vmap_lazy_nr} equals the lazy areas' pages, and that every
   * live vmalloc'd page translates ({@code translate}) to its frame. For tests; costs nothing.
   *
   * @throws IllegalStateException naming the first broken property
   */
  void checkConsistency(java.util.function.LongUnaryOperator translate) {
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
    for (VmapArea area : lazy) {
      addRange(ranges, area.vaStart(), area.vaEnd(), "lazy");
      lazyPages += area.pages();
    }
    for (VmapArea area : busy.all()) {
      if (busy.nodeOf(area.vaStart()) != busy.treeOf(area)) {
        throw new IllegalStateException(area + " is in the busy tree of another vmap node");
      }
      addRange(ranges, area.vaStart(), area.vaEnd(), "busy");
      for (int i = 0; i < area.mappedPages() && area.pfns() != null; i++) {
        long pa = translate.applyAsLong(area.vaStart() + i * Vmalloc.PAGE_BYTES);
        if (pa != area.pfns()[i] << PhysicalMemory.FRAME_SHIFT) {
          throw new IllegalStateException(
              area + " page " + i + " translates to 0x" + Long.toHexString(pa));
        }
      }
    }
    if (lazyPages != vmapLazyPages) {
      throw new IllegalStateException(
          "vmap_lazy_nr " + vmapLazyPages + " but the lazy areas hold " + lazyPages);
    }
    long expected = vmallocStartVa;
    for (Map.Entry<Long, Long> range : ranges.entrySet()) {
      if (range.getKey() != expected) {
        throw new IllegalStateException(
            "gap or overlap at 0x"
                + Long.toHexString(expected)
                + " (next range at 0x"
                + Long.toHexString(range.getKey())
                + ")");
      }
      expected = range.getValue();
    }
    if (expected != vmallocEndVa) {
      throw new IllegalStateException("ranges end at 0x" + Long.toHexString(expected));
    }
  }

  private static void addRange(TreeMap<Long, Long> ranges, long start, long end, String what) {
    if (ranges.put(start, end) != null) {
      throw new IllegalStateException(
          what + " range at 0x" + Long.toHexString(start) + " is held twice");
    }
  }

  /** The allocator's counters for the result's {@code kernel} section. */
  Map<String, Object> counters() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("vmapLazyMaxPages", lazyMaxPages);
    c.put("vmapLazyPages", vmapLazyPages);
    c.put("vmapLazyPagesHighWater", lazyPagesHighWater);
    c.put("vmapPurges", purges);
    c.put("vmapPurgedAreas", purgedAreas);
    c.put("vmapPurgedAreasMax", purgedAreasMax);
    c.put("vmapPurgedPages", purgedPages);
    c.put("vmapKernelRangeFlushes", kernelRangeFlushes);
    c.put("vmapEagerFlushes", eagerFlushes);
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
    c.put("vmapBusyAreas", busy.totalSize());
    long busyWaitCycles = 0;
    long busyContended = 0;
    for (SimLock lock : busyLocks) {
      busyWaitCycles += lock.waitCycles();
      busyContended += lock.contendedAcquisitions();
    }
    c.put("vmapBusyLockContended", busyContended);
    c.put(
        "vmapLockWaitCycles",
        freeLock.waitCycles() + busyWaitCycles + lazyLock.waitCycles() + purgeLock.waitCycles());
    return c;
  }
}
