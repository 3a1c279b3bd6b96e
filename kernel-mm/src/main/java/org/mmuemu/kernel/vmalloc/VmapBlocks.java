package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.lock.SimLock;

/**
 * The per-CPU vmap blocks behind small {@code vm_map_ram} calls (Linux mm/vmalloc.c {@code
 * vb_alloc}, {@code vb_free}, {@code _vm_unmap_aliases}).
 *
 * <p>Each CPU has a queue: a free list of its blocks that still have never-used space, and an
 * xarray; the xarrays together hold every block, each in the xarray chosen by a hash of its address
 * (generally not its creator's). A block leaves its free list when its last free page is handed
 * out. Unmapping inside a block only widens its dirty range; no TLB is flushed until {@code
 * vm_unmap_aliases} or the purge of the whole block.
 *
 * <p>Variant {@code vmUnmapAliasesWalk}: {@code xarray} (6.5+, fc1e0d980037) visits every block
 * through the xarrays, resets each dirty range it flushes, and purges only fragmented blocks below
 * the threshold; {@code free-list} (up to 6.4) visits only blocks on the free lists, so a fully
 * used block's dirty range is never flushed (the stale-TLB bug), never resets ranges, and purges
 * every fragmented block.
 *
 * <p>{@code // MODEL:} {@code VMAP_BBMAP_BITS} is 1024 (NR_CPUS up to 2048); the block object is
 * released (RCU-freed in Linux) when the block is freed, and any later use of its area is reported
 * as {@code KERNEL_UAF}. Confined to the simulation thread.
 */
public final class VmapBlocks {
  /** Largest vm_map_ram request served by blocks, in pages (BITS_PER_LONG). */
  public static final int VMAP_MAX_ALLOC = 64;

  /** Pages per block. */
  public static final int VMAP_BBMAP_BITS = 1024;

  /** Fragmented blocks with fewer free pages than this are purged by vm_unmap_aliases (6.5+). */
  public static final int VMAP_PURGE_THRESHOLD = VMAP_BBMAP_BITS / 4;

  /** Bytes per block. */
  public static final long VMAP_BLOCK_BYTES = VMAP_BBMAP_BITS * Vmalloc.PAGE_BYTES;

  private final Vmalloc vmalloc;
  private final VmapAreaAllocator areas;
  private final Machine machine;
  private final int cpus;
  private final boolean freeListWalk;
  private final long blockCycles;
  private final List<List<VmapBlock>> freeLists = new ArrayList<>();
  private final List<TreeMap<Long, VmapBlock>> xarrays = new ArrayList<>();
  private final SimLock[] queueLocks;
  private long blocksCreated;
  private long blocksFreed;
  private long blocksPurged;
  private long vbAllocs;
  private long vbFrees;
  private long unmapAliasesCalls;
  private long unmapAliasesFlushes;

  VmapBlocks(
      Vmalloc vmalloc, VmapAreaAllocator areas, long blockCycles, int cpus, boolean freeListWalk) {
    this.areas = areas;
    this.vmalloc = vmalloc;
    this.machine = vmalloc.machine();
    this.cpus = cpus;
    this.freeListWalk = freeListWalk;
    this.blockCycles = blockCycles;
    this.queueLocks = new SimLock[cpus];
    for (int cpu = 0; cpu < cpus; cpu++) {
      freeLists.add(new ArrayList<>());
      xarrays.add(new TreeMap<>());
      queueLocks[cpu] = new SimLock("vmap_block_queue.lock");
    }
  }

  private long blockIndex(long va) {
    long base = areas.vmallocStartVa() & -VMAP_BLOCK_BYTES;
    return (va - base) / VMAP_BLOCK_BYTES;
  }

  private TreeMap<Long, VmapBlock> xarrayOf(long va) {
    return xarrays.get(
        (int) Long.remainderUnsigned(Long.divideUnsigned(va, VMAP_BLOCK_BYTES), cpus));
  }

  private static int order(long sizeBytes) {
    long pages = (sizeBytes + Vmalloc.PAGE_BYTES - 1) / Vmalloc.PAGE_BYTES;
    return 64 - Long.numberOfLeadingZeros(pages - 1);
  }

  /** The blocks on {@code cpu}'s free list, in list order (for tests). */
  public List<VmapBlock> freeList(int cpu) {
    return List.copyOf(freeLists.get(cpu));
  }

  /** The block holding {@code va}, or null (a debugging lookup: costs nothing). */
  public VmapBlock blockOf(long va) {
    return xarrayOf(va).get(blockIndex(va));
  }

  /** {@code vb_alloc}: a slot of {@code 2^order} pages from this CPU's blocks, or a new block. */
  long vbAlloc(int core, long sizeBytes) {
    vbAllocs++;
    int pages = 1 << order(sizeBytes);
    List<VmapBlock> list = freeLists.get(core);
    // The list is walked as RCU lets Linux walk it: other CPUs may take blocks off it meanwhile.
    for (VmapBlock vb : rcuWalk(core, list, "vb_alloc")) {
      machine.charge(core, blockCycles);
      if (vb.released) {
        continue; // freed by another CPU during the walk: RCU keeps it readable, it is skipped
      }
      if (vb.free < pages) { // lockless READ_ONCE check; free only decreases
        continue;
      }
      vb.lock.acquire(machine, core, areas.lockCycles());
      if (vb.free < pages) { // a purge or another allocation took the space meanwhile
        vb.lock.release(machine, core);
        continue;
      }
      int offset = VMAP_BBMAP_BITS - vb.free;
      long va = vb.area.vaStart() + offset * Vmalloc.PAGE_BYTES;
      vb.free -= pages;
      vb.usedMap.set(offset, offset + pages);
      if (vb.free == 0) {
        queueLocks[core].acquire(machine, core, areas.lockCycles());
        list.remove(vb);
        vb.onFreeList = false;
        queueLocks[core].release(machine, core);
      }
      vb.lock.release(machine, core);
      return va;
    }
    return newVmapBlock(core, pages);
  }

  private long newVmapBlock(int core, int pages) {
    VmapArea area =
        areas.allocVmapArea(
            core,
            VMAP_BLOCK_BYTES,
            VMAP_BLOCK_BYTES,
            areas.vmallocStartVa(),
            areas.vmallocEndVa(),
            VmapArea.FLAG_RAM | VmapArea.FLAG_BLOCK | VmapArea.FLAG_NO_GUARD);
    if (area == null) {
      return 0;
    }
    machine.charge(core, blockCycles);
    VmapBlock vb = new VmapBlock(area, core, pages);
    xarrayOf(area.vaStart()).put(blockIndex(area.vaStart()), vb);
    queueLocks[core].acquire(machine, core, areas.lockCycles());
    freeLists.get(core).add(vb);
    vb.onFreeList = true;
    queueLocks[core].release(machine, core);
    blocksCreated++;
    return area.vaStart();
  }

  /** {@code vb_free}: clears the slot's entries without a flush and widens the dirty range. */
  void vbFree(int core, long va, long sizeBytes) {
    vbFrees++;
    int pages = 1 << order(sizeBytes);
    VmapBlock vb = blockOf(va);
    machine.charge(core, blockCycles);
    if (vb == null) {
      throw new IllegalStateException(
          "vm_unmap_ram: 0x" + Long.toHexString(va) + " is in no vmap block");
    }
    touch(core, vb, "vb_free");
    int offset = (int) ((va - vb.area.vaStart()) / Vmalloc.PAGE_BYTES);
    vb.lock.acquire(machine, core, areas.lockCycles());
    vb.usedMap.clear(offset, offset + pages);
    vb.lock.release(machine, core);
    vmalloc.unmapNoflush(core, va, va + sizeBytes);
    vb.lock.acquire(machine, core, areas.lockCycles());
    vb.dirtyMin = Math.min(vb.dirtyMin, offset);
    vb.dirtyMax = Math.max(vb.dirtyMax, offset + pages);
    vb.dirty += pages;
    boolean fullyDirty = vb.dirty == VMAP_BBMAP_BITS;
    vb.lock.release(machine, core);
    // dirty and unflushed: only vm_unmap_aliases or the purge of the freed block flushes it
    areas.preempt(PreemptionHook.VB_FREE_DIRTY, core);
    if (fullyDirty) {
      freeVmapBlock(core, vb);
    }
  }

  /** {@code free_vmap_block}: the block's whole area goes lazy; the block object is released. */
  private void freeVmapBlock(int core, VmapBlock vb) {
    xarrayOf(vb.area.vaStart()).remove(blockIndex(vb.area.vaStart()));
    VmapArea area = areas.unlinkBusy(core, vb.area.vaStart());
    areas.freeVmapAreaNoflush(core, area);
    vb.released = true;
    blocksFreed++;
  }

  /**
   * {@code purge_fragmented_block}: a block with no live allocation and unused space left is marked
   * fully dirty and taken off its creator's free list (under that CPU's queue lock).
   */
  private boolean purgeFragmentedBlock(
      int core, VmapBlock vb, List<VmapBlock> purgeList, boolean force) {
    if (vb.free + vb.dirty != VMAP_BBMAP_BITS || vb.dirty == VMAP_BBMAP_BITS) {
      return false;
    }
    if (!force && vb.free >= VMAP_PURGE_THRESHOLD) {
      return false;
    }
    vb.free = 0;
    vb.dirty = VMAP_BBMAP_BITS;
    vb.dirtyMin = 0;
    vb.dirtyMax = VMAP_BBMAP_BITS;
    if (vb.onFreeList) {
      queueLocks[vb.cpu].acquire(machine, core, areas.lockCycles());
      freeLists.get(vb.cpu).remove(vb);
      vb.onFreeList = false;
      queueLocks[vb.cpu].release(machine, core);
    }
    purgeList.add(vb);
    return true;
  }

  private void freePurgedBlocks(int core, List<VmapBlock> purgeList) {
    for (VmapBlock vb : purgeList) {
      freeVmapBlock(core, vb);
    }
    blocksPurged += purgeList.size();
  }

  /** {@code purge_fragmented_blocks_allcpus}: walks every CPU's free list. */
  void purgeFragmentedAllCpus(int core, boolean force) {
    List<VmapBlock> purgeList = new ArrayList<>();
    for (int cpu = 0; cpu < cpus; cpu++) {
      for (VmapBlock vb : rcuWalk(core, freeLists.get(cpu), "purge_fragmented_blocks")) {
        machine.charge(core, blockCycles);
        if (vb.released) {
          continue; // freed by another CPU during the walk
        }
        vb.lock.acquire(machine, core, areas.lockCycles());
        purgeFragmentedBlock(core, vb, purgeList, force);
        vb.lock.release(machine, core);
      }
    }
    freePurgedBlocks(core, purgeList);
  }

  /** {@code _vm_unmap_aliases(ULONG_MAX, 0, 0)} in the selected walk variant. */
  void vmUnmapAliases(int core) {
    unmapAliasesCalls++;
    long start = -1L;
    long end = 0L;
    boolean flush = false;
    List<VmapBlock> purgeList = new ArrayList<>();
    if (freeListWalk) {
      // up to 6.4: the free lists, without the purge lock; dirty ranges are not reset
      for (int cpu = 0; cpu < cpus; cpu++) {
        for (VmapBlock vb : rcuWalk(core, freeLists.get(cpu), "_vm_unmap_aliases")) {
          machine.charge(core, blockCycles);
          if (vb.released) {
            continue; // freed by another CPU during the walk
          }
          vb.lock.acquire(machine, core, areas.lockCycles());
          if (vb.dirty != 0 && vb.dirty != VMAP_BBMAP_BITS) {
            areas.touch(core, vb.area, "_vm_unmap_aliases");
            long s = vb.area.vaStart() + vb.dirtyMin * Vmalloc.PAGE_BYTES;
            long e = vb.area.vaStart() + vb.dirtyMax * Vmalloc.PAGE_BYTES;
            start = Long.compareUnsigned(s, start) < 0 ? s : start;
            end = Long.compareUnsigned(e, end) > 0 ? e : end;
            flush = true;
          }
          vb.lock.release(machine, core);
        }
      }
      areas.purgeLock().acquire(machine, core, areas.lockCycles());
      purgeFragmentedAllCpus(core, true);
    } else {
      areas.purgeLock().acquire(machine, core, areas.lockCycles());
      for (int cpu = 0; cpu < cpus; cpu++) {
        for (VmapBlock vb : rcuWalk(core, xarrays.get(cpu).values(), "_vm_unmap_aliases")) {
          machine.charge(core, blockCycles);
          if (vb.released) {
            continue; // freed by another CPU during the walk
          }
          vb.lock.acquire(machine, core, areas.lockCycles());
          if (!purgeFragmentedBlock(core, vb, purgeList, false)
              && vb.dirtyMax != 0
              && vb.dirty != VMAP_BBMAP_BITS) {
            areas.touch(core, vb.area, "_vm_unmap_aliases");
            long s = vb.area.vaStart() + vb.dirtyMin * Vmalloc.PAGE_BYTES;
            long e = vb.area.vaStart() + vb.dirtyMax * Vmalloc.PAGE_BYTES;
            start = Long.compareUnsigned(s, start) < 0 ? s : start;
            end = Long.compareUnsigned(e, end) > 0 ? e : end;
            vb.dirtyMin = VMAP_BBMAP_BITS; // a09fad96ffb1: flushed below, under the purge lock
            vb.dirtyMax = 0;
            flush = true;
          }
          vb.lock.release(machine, core);
        }
      }
      freePurgedBlocks(core, purgeList);
    }
    long flushesBefore = areas.kernelRangeFlushCount();
    areas.purgeVmapAreaLazyLocked(core, start, end, flush, false);
    unmapAliasesFlushes += areas.kernelRangeFlushCount() - flushesBefore;
    areas.purgeLock().release(machine, core);
  }

  /**
   * The blocks an RCU walk of {@code blocks} visits: those present when it starts. A block already
   * released then is reached after its free ({@code KERNEL_UAF}); one released by another CPU while
   * the walk runs (it stops at lock points) is still readable under RCU and the caller skips it.
   */
  private List<VmapBlock> rcuWalk(int core, java.util.Collection<VmapBlock> blocks, String where) {
    List<VmapBlock> snapshot = List.copyOf(blocks);
    for (VmapBlock vb : snapshot) {
      touch(core, vb, where);
    }
    return snapshot;
  }

  // KERNEL_UAF: a freed block must not be reached again (Linux frees it with kfree_rcu)
  private void touch(int core, VmapBlock vb, String where) {
    if (vb.released) {
      machine
          .oracle()
          .report(
              org.mmuemu.core.oracle.ViolationKind.KERNEL_UAF,
              core,
              machine.now(core),
              vb.area.vaStart(),
              -1,
              -1,
              where
                  + " reached the vmap block at 0x"
                  + Long.toHexString(vb.area.vaStart())
                  + " after it was freed");
    }
  }

  /** Block counters for the result's {@code kernel} section. */
  Map<String, Object> counters() {
    Map<String, Object> c = new LinkedHashMap<>();
    long live = 0;
    for (TreeMap<Long, VmapBlock> xarray : xarrays) {
      live += xarray.size();
    }
    c.put("vmapBlocksCreated", blocksCreated);
    c.put("vmapBlocksFreed", blocksFreed);
    c.put("vmapBlocksPurged", blocksPurged);
    c.put("vmapBlocksLive", live);
    c.put("vmapBlockAllocs", vbAllocs);
    c.put("vmapBlockFrees", vbFrees);
    c.put("vmUnmapAliasesCalls", unmapAliasesCalls);
    c.put("vmUnmapAliasesFlushes", unmapAliasesFlushes);
    return c;
  }
}
