package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.lock.SimLock;

/**
 * The part of Linux's per-CPU allocator (mm/percpu.c, mm/percpu-vm.c) that uses vmalloc: an object
 * is carved from a chunk whose address range holds one unit per CPU ({@code pcpu_get_vm_areas});
 * the pages an object touches are populated on first use, one frame per CPU per page, and mapped
 * without a TLB flush; a chunk left empty is depopulated (its entries cleared, then one {@code
 * flush_tlb_kernel_range} over the chunk, then its frames freed) and its area freed lazily.
 *
 * <p>{@code // MODEL:} a unit is 256 KiB per CPU; the embedded first chunk is left out, so every
 * chunk is vmalloc-backed; inside a chunk objects are placed by a bump pointer (freed space is
 * reused only once the chunk empties, where Linux's bitmap allocator reuses it at once); the chunk
 * area comes from the lowest fit aligned to the unit size rather than {@code pcpu_get_vm_areas}'s
 * top-down search; empty chunks are destroyed at once (Linux's balance work does it later and keeps
 * one). Confined to the simulation thread.
 */
public final class PercpuAllocator {
  private static final KernelOperation OP_ALLOC_PERCPU = KernelOperation.named("alloc_percpu");
  private static final KernelOperation OP_FREE_PERCPU = KernelOperation.named("free_percpu");

  /** Bytes per CPU unit of a chunk. */
  public static final long UNIT_BYTES = 256L << 10;

  private final Vmalloc vmalloc;
  private final VmapAreaAllocator areas;
  private final Machine machine;
  private final int cpus;
  private final long allocCycles;
  private final long pageAllocCycles;
  private final long pageFreeCycles;
  private final SimLock mutex = new SimLock("pcpu_alloc_mutex");
  private final List<Chunk> chunks = new ArrayList<>();
  private long chunksCreated;
  private long chunksDestroyed;
  private long pagesPopulated;

  private static final class Chunk {
    final VmapArea area;
    final long[][] pfns;
    long bumpBytes;
    int liveObjects;

    Chunk(VmapArea area, int cpus) {
      this.area = area;
      this.pfns = new long[cpus][(int) (UNIT_BYTES / Vmalloc.PAGE_BYTES)];
    }
  }

  PercpuAllocator(
      Vmalloc vmalloc,
      VmapAreaAllocator areas,
      long allocCycles,
      long pageAllocCycles,
      long pageFreeCycles) {
    this.areas = areas;
    this.vmalloc = vmalloc;
    this.machine = vmalloc.machine();
    this.cpus = machine.coreCount();
    this.allocCycles = allocCycles;
    this.pageAllocCycles = pageAllocCycles;
    this.pageFreeCycles = pageFreeCycles;
  }

  /**
   * {@code __alloc_percpu(size, align)}.
   *
   * @param sizeBytes 1 to {@link #UNIT_BYTES}
   * @param alignBytes a power of two up to a page
   * @return the object's address in CPU 0's unit (CPU n's copy is {@code n × UNIT_BYTES} above), or
   *     0
   */
  public long alloc(int core, long sizeBytes, long alignBytes) {
    if (sizeBytes <= 0
        || sizeBytes > UNIT_BYTES
        || Long.bitCount(alignBytes) != 1
        || alignBytes > Vmalloc.PAGE_BYTES) {
      return 0;
    }
    long start = OP_ALLOC_PERCPU.begin(machine, core, 0);
    mutex.acquire(machine, core, areas.lockCycles());
    machine.charge(core, allocCycles);
    Chunk chunk = null;
    long offset = 0;
    for (Chunk candidate : chunks) {
      long aligned = (candidate.bumpBytes + alignBytes - 1) & -alignBytes;
      if (aligned + sizeBytes <= UNIT_BYTES) {
        chunk = candidate;
        offset = aligned;
        break;
      }
    }
    if (chunk == null) {
      VmapArea area =
          areas.allocVmapArea(
              core,
              UNIT_BYTES * cpus,
              UNIT_BYTES,
              areas.vmallocStartVa(),
              areas.vmallocEndVa(),
              VmapArea.FLAG_NO_GUARD);
      if (area == null) {
        mutex.release(machine, core);
        OP_ALLOC_PERCPU.endUnrecorded(machine, core, 0);
        return 0;
      }
      chunk = new Chunk(area, cpus);
      chunks.add(chunk);
      chunksCreated++;
    }
    populate(core, chunk, offset, offset + sizeBytes);
    chunk.bumpBytes = offset + sizeBytes;
    chunk.liveObjects++;
    mutex.release(machine, core);
    OP_ALLOC_PERCPU.end(machine, core, 0, start);
    return chunk.area.vaStart() + offset;
  }

  private void populate(int core, Chunk chunk, long fromBytes, long toBytes) {
    for (long page = fromBytes / Vmalloc.PAGE_BYTES;
        page <= (toBytes - 1) / Vmalloc.PAGE_BYTES;
        page++) {
      if (chunk.pfns[0][(int) page] != 0) {
        continue;
      }
      for (int cpu = 0; cpu < cpus; cpu++) {
        long pfn = machine.memory().allocate(FrameKind.KERNEL);
        machine.charge(core, pageAllocCycles);
        chunk.pfns[cpu][(int) page] = pfn;
        vmalloc.mapPages(
            core,
            chunk.area.vaStart() + cpu * UNIT_BYTES + page * Vmalloc.PAGE_BYTES,
            new long[] {pfn},
            1);
        pagesPopulated++;
      }
    }
  }

  /** {@code free_percpu(ptr)}; an empty chunk is destroyed. A null pointer does nothing. */
  public void free(int core, long va) {
    if (va == 0) {
      return;
    }
    long start = OP_FREE_PERCPU.begin(machine, core, va);
    mutex.acquire(machine, core, areas.lockCycles());
    machine.charge(core, allocCycles);
    Chunk chunk = null;
    for (Chunk candidate : chunks) {
      if (Long.compareUnsigned(va, candidate.area.vaStart()) >= 0
          && Long.compareUnsigned(va, candidate.area.vaStart() + UNIT_BYTES) < 0) {
        chunk = candidate;
        break;
      }
    }
    if (chunk == null) {
      mutex.release(machine, core);
      throw new IllegalStateException("free_percpu: 0x" + Long.toHexString(va) + " is in no chunk");
    }
    areas.touch(core, chunk.area, "free_percpu");
    if (--chunk.liveObjects == 0) {
      destroy(core, chunk);
    }
    mutex.release(machine, core);
    OP_FREE_PERCPU.end(machine, core, va, start);
  }

  private void destroy(int core, Chunk chunk) {
    chunks.remove(chunk);
    VmapArea area = chunk.area;
    vmalloc.unmapNoflush(core, area.vaStart(), area.vaEnd());
    areas.flushKernelRange(core, area.vaStart(), area.vaEnd(), "pcpu_post_unmap_tlb_flush");
    long freeCycles = pageFreeCycles;
    for (long[] unit : chunk.pfns) {
      for (long pfn : unit) {
        if (pfn != 0) {
          machine.memory().free(pfn);
          machine.charge(core, freeCycles);
        }
      }
    }
    VmapArea unlinked = areas.unlinkBusy(core, area.vaStart());
    areas.freeVmapAreaNoflush(core, unlinked);
    chunksDestroyed++;
  }

  long chunksCreated() {
    return chunksCreated;
  }

  long chunksDestroyed() {
    return chunksDestroyed;
  }

  long pagesPopulated() {
    return pagesPopulated;
  }
}
