package org.mmuemu.kernel.vmalloc;

import java.util.BitSet;
import org.mmuemu.kernel.lock.SimLock;

/**
 * One per-CPU vmap block (Linux {@code struct vmap_block}): a {@code VMAP_BLOCK_SIZE} area handed
 * out by a bump pointer in power-of-two page slots. {@code free} (pages never handed out) only
 * decreases, {@code dirty} (pages handed out and unmapped again) only increases, and {@code
 * [dirtyMin, dirtyMax)} is the page range unmapped but not yet covered by a TLB flush (empty as
 * {@code min = BITS, max = 0}). Confined to the simulation thread.
 */
public final class VmapBlock {
  final VmapArea area;
  final int cpu;
  final SimLock lock = new SimLock("vmap_block.lock");
  final BitSet usedMap = new BitSet(VmapBlocks.VMAP_BBMAP_BITS);
  int free;
  int dirty;
  int dirtyMin = VmapBlocks.VMAP_BBMAP_BITS;
  int dirtyMax;
  boolean onFreeList;
  boolean released;

  VmapBlock(VmapArea area, int cpu, int firstPages) {
    this.area = area;
    this.cpu = cpu;
    this.free = VmapBlocks.VMAP_BBMAP_BITS - firstPages;
    usedMap.set(0, firstPages);
  }

  public long vaStart() {
    return area.vaStart();
  }

  /** Pages never handed out. */
  public int free() {
    return free;
  }

  /** Pages handed out and unmapped since. */
  public int dirty() {
    return dirty;
  }

  public int dirtyMin() {
    return dirtyMin;
  }

  public int dirtyMax() {
    return dirtyMax;
  }

  /** The CPU whose free list holds (or held) the block. */
  public int cpu() {
    return cpu;
  }

  public boolean isOnFreeList() {
    return onFreeList;
  }
}
