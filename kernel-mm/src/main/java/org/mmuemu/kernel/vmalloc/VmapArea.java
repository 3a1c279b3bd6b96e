package org.mmuemu.kernel.vmalloc;

/**
 * An allocated range of kernel virtual addresses (Linux {@code struct vmap_area}, with the parts of
 * its {@code vm_struct} the model needs): {@code [vaStart, vaEnd)}, whose last page is the guard
 * page unless {@link #FLAG_NO_GUARD}, the frames mapped in it, and whether it has been released.
 *
 * <p>An area is live from its allocation until the purge hands its range back to the free space;
 * after that it is released, and any use of it is a kernel use-after-free that {@link Vmalloc}
 * reports as {@code KERNEL_UAF}. Confined to the simulation thread.
 */
public final class VmapArea {
  /** vm_map_ram area (Linux VMAP_RAM). */
  public static final int FLAG_RAM = 0x1;

  /** Backs a vmap block (Linux VMAP_BLOCK). */
  public static final int FLAG_BLOCK = 0x2;

  /** Mapped frames belong to the area and are freed with it (vmalloc rather than vmap). */
  public static final int FLAG_OWNS_PAGES = 0x100;

  /** No guard page (Linux VM_NO_GUARD; always so for vm_map_ram areas). */
  public static final int FLAG_NO_GUARD = 0x200;

  private final long id;
  private final long vaStart;
  private final long vaEnd;
  private final int flags;
  private long[] pfns;
  private int mappedPages;
  private int leafShift = 12;
  private boolean released;
  private int nodeId = -1;

  VmapArea(long id, long vaStart, long vaEnd, int flags) {
    this.id = id;
    this.vaStart = vaStart;
    this.vaEnd = vaEnd;
    this.flags = flags;
  }

  /** A number unique within the run, for messages. */
  public long id() {
    return id;
  }

  public long vaStart() {
    return vaStart;
  }

  public long vaEnd() {
    return vaEnd;
  }

  public long sizeBytes() {
    return vaEnd - vaStart;
  }

  /** Pages of the whole area, guard page included (what vmap_lazy_nr counts). */
  public long pages() {
    return (vaEnd - vaStart) >>> 12;
  }

  public int flags() {
    return flags;
  }

  public boolean hasFlag(int flag) {
    return (flags & flag) != 0;
  }

  /** Frames mapped from {@link #vaStart}, one per 4 KiB page; null before mapping. */
  long[] pfns() {
    return pfns;
  }

  int mappedPages() {
    return mappedPages;
  }

  void setMapping(long[] framePfns, int pages, int shift) {
    this.pfns = framePfns;
    this.mappedPages = pages;
    this.leafShift = shift;
  }

  /** log2 of the leaf size used to map the area (12, or larger for huge vmap). */
  public int leafShift() {
    return leafShift;
  }

  /**
   * The vmap node whose pool the range returns to after the purge, or -1 (Linux's vn_id in flags).
   */
  public int nodeId() {
    return nodeId;
  }

  void setNodeId(int node) {
    this.nodeId = node;
  }

  public boolean isReleased() {
    return released;
  }

  void release() {
    released = true;
  }

  @Override
  public String toString() {
    return "vmap_area#"
        + id
        + "[0x"
        + Long.toHexString(vaStart)
        + ", 0x"
        + Long.toHexString(vaEnd)
        + ")";
  }
}
