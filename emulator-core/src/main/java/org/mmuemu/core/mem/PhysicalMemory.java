package org.mmuemu.core.mem;

/**
 * The simulated physical memory: a set of 4 KiB frames, each with a kind, an allocation stamp and,
 * for page-table frames, its 512 descriptors.
 *
 * <p>Every allocation takes the next value of a machine-wide allocation sequence as the frame's
 * stamp, so stamps only grow: a TLB entry that remembers the sequence value at its fill is stale
 * exactly when its frame has been freed, or allocated again, since then. (This is the frame
 * "generation" of the architecture notes, made comparable across frames so one number per TLB entry
 * also covers block mappings.)
 *
 * <p>Frame 0 is never handed out, so a zero physical frame number can mean "none". Freed frames are
 * reused last-in first-out, as Linux's per-CPU page lists do, which makes a stale translation meet
 * a re-allocated frame quickly.
 *
 * <p>Memory is sparse on the host: the per-frame arrays cover only the frames handed out so far
 * (they grow as allocation reaches higher frames) and a frame's descriptor array exists only while
 * it has been a page table, so a machine of 1 TiB that touches 10 MiB costs the host about what 10
 * MiB of frames need ({@link #HOST_BYTES_PER_FRAME} each at most, plus 4 KiB per page-table frame).
 *
 * <p>Confined to the simulation thread.
 */
public final class PhysicalMemory {
  /** Frame size in bytes. */
  public static final int FRAME_SHIFT = 12;

  private static final int DESCRIPTORS_PER_TABLE = 512;
  private static final int INITIAL_CAPACITY_FRAMES = 1024;

  /**
   * Host bytes one touched frame costs, amortised: 41 bytes of per-frame state (kind, stamp,
   * content version, last write cycle, descriptor reference, free-list slot), slack while an array
   * grows, and the frame's share of the page tables that map it (one 4 KiB table per 512 frames).
   *
   * <p>{@code // MODEL:} an estimate for the host-memory budget: it leaves out the oracle's
   * per-frame free times ({@code FrameFreeTimes}, 24 bytes per freed frame) and can fall short by
   * up to about a third while every array is mid-growth; the budget keeps a quarter of the heap in
   * reserve for that.
   */
  public static final int HOST_BYTES_PER_FRAME = 64;

  private final long frameCount;
  private byte[] kinds;
  private long[] allocationStamps;
  private long[] contentVersions;
  private long[] lastWriteCycles;
  private long[][] tableDescriptors;
  // Per table frame, how many of its descriptors are not 0: a table is handed out zeroed and freed
  // empty almost always, so claiming it clears it only when this says so, and "is it empty" needs
  // no scan.
  private int[] nonZeroDescriptors;
  private long[] freeStack;
  private int freeTop;
  private long nextUntouchedPfn = 1;
  private long allocationSequence;
  private long framesInUse;
  private FrameListener listener;
  private DescriptorWriteListener descriptorListener;
  private long[] nodeFrameLimits;
  private long[] nodeFramesInUse;
  private byte[] frameNodes;
  private java.util.function.IntSupplier preferredNode;
  private int explicitNode = -1;

  /**
   * Creates memory of {@code sizeBytes}.
   *
   * @param sizeBytes a multiple of 4 KiB; at most 2^31 frames (8 TiB)
   */
  public PhysicalMemory(long sizeBytes) {
    if (sizeBytes <= 0 || sizeBytes % (1L << FRAME_SHIFT) != 0) {
      throw new IllegalArgumentException(
          "sizeBytes: " + sizeBytes + " (expected: a positive multiple of 4096)");
    }
    long frames = sizeBytes >>> FRAME_SHIFT;
    if (frames > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("sizeBytes: " + sizeBytes + " (expected: at most 8TiB)");
    }
    this.frameCount = frames;
    int n = (int) Math.min(frames, INITIAL_CAPACITY_FRAMES);
    this.kinds = new byte[n];
    this.allocationStamps = new long[n];
    this.contentVersions = new long[n];
    this.lastWriteCycles = new long[n];
    this.tableDescriptors = new long[n][];
    this.nonZeroDescriptors = new int[n];
    this.freeStack = new long[Math.min(n, 64)];
  }

  /** Frames the host arrays cover now: every frame at or above this one has never been used. */
  public long hostCapacityFrames() {
    return kinds.length;
  }

  /** Grows the per-frame arrays to cover frame numbers below {@code frames}. */
  private void ensureCapacity(long frames) {
    if (frames <= kinds.length) {
      return;
    }
    int capacity = (int) Math.min(frameCount, Math.max(frames, (long) kinds.length * 2));
    kinds = java.util.Arrays.copyOf(kinds, capacity);
    allocationStamps = java.util.Arrays.copyOf(allocationStamps, capacity);
    contentVersions = java.util.Arrays.copyOf(contentVersions, capacity);
    lastWriteCycles = java.util.Arrays.copyOf(lastWriteCycles, capacity);
    tableDescriptors = java.util.Arrays.copyOf(tableDescriptors, capacity);
    nonZeroDescriptors = java.util.Arrays.copyOf(nonZeroDescriptors, capacity);
    if (frameNodes != null) {
      frameNodes = java.util.Arrays.copyOf(frameNodes, capacity);
    }
  }

  private void pushFree(long pfn) {
    if (freeTop == freeStack.length) {
      freeStack = java.util.Arrays.copyOf(freeStack, Math.min(kinds.length, freeStack.length * 2));
    }
    freeStack[freeTop++] = pfn;
  }

  public void setListener(FrameListener listener) {
    this.listener = listener;
  }

  /** Installs the observer of every descriptor write (an ISA's table-update checker), or null. */
  public void setDescriptorWriteListener(DescriptorWriteListener listener) {
    this.descriptorListener = listener;
  }

  /**
   * Splits the memory into NUMA nodes of {@code framesPerNode[n]} frames each (adding up to {@link
   * #frameCount}). From then on every allocation belongs to a node: {@link #allocate} takes the
   * node {@code preferredNode} names (the allocating core's, Linux's local allocation), {@link
   * #allocateOnNode} the one it is given; a node whose frames are all in use passes the allocation
   * to the next node with room (Linux's zonelist fallback).
   *
   * <p>{@code // MODEL:} a node is a pool of frames with a capacity, not a range of frame numbers:
   * which frame an allocation gets does not depend on its node (freed frames are reused last-in
   * first-out as before), only the node it is counted on does. With one node nothing changes.
   */
  public void setNodes(long[] framesPerNode, java.util.function.IntSupplier preferredNode) {
    long total = 0;
    for (long frames : framesPerNode) {
      total += frames;
    }
    if (framesPerNode.length < 2 || framesPerNode.length > Byte.MAX_VALUE || total != frameCount) {
      throw new IllegalArgumentException(
          "framesPerNode: "
              + framesPerNode.length
              + " nodes of "
              + total
              + " frames (expected: 2 to 127 nodes of "
              + frameCount
              + " frames in all)");
    }
    this.nodeFrameLimits = framesPerNode.clone();
    this.nodeFramesInUse = new long[framesPerNode.length];
    this.frameNodes = new byte[kinds.length];
    this.preferredNode = preferredNode;
  }

  /** The number of NUMA nodes (1 unless {@link #setNodes} split the memory). */
  public int nodeCount() {
    return nodeFrameLimits == null ? 1 : nodeFrameLimits.length;
  }

  /** The node an allocated frame belongs to (0 on a machine of one node). */
  public int nodeOf(long pfn) {
    checkPfn(pfn);
    return frameNodes == null ? 0 : frameNodes[(int) pfn];
  }

  /** Frames in use on {@code node}. */
  public long nodeFramesInUse(int node) {
    return frameNodes == null ? framesInUse : nodeFramesInUse[node];
  }

  /**
   * Allocates one frame on {@code node} (or, when it is full, on the next node with room), as a
   * page migration to that node does.
   *
   * @throws SimulatedOutOfMemoryException when no frame is free
   */
  public long allocateOnNode(FrameKind kind, int node) {
    if (node < 0 || node >= nodeCount()) {
      throw new IllegalArgumentException(
          "node: " + node + " (expected: 0 to " + (nodeCount() - 1) + ")");
    }
    explicitNode = node;
    try {
      return allocate(kind);
    } finally {
      explicitNode = -1;
    }
  }

  // the node a frame being claimed is counted on: the wanted one, or the next with room
  private int nodeForClaim() {
    int wanted = explicitNode >= 0 ? explicitNode : preferredNode.getAsInt();
    for (int i = 0; i < nodeFrameLimits.length; i++) {
      int node = (wanted + i) % nodeFrameLimits.length;
      if (nodeFramesInUse[node] < nodeFrameLimits[node]) {
        return node;
      }
    }
    return wanted;
  }

  public long frameCount() {
    return frameCount;
  }

  public long framesInUse() {
    return framesInUse;
  }

  /** The last allocation stamp handed out; a TLB fill records it. */
  public long allocationSequence() {
    return allocationSequence;
  }

  /**
   * Allocates one frame.
   *
   * @return its frame number
   * @throws SimulatedOutOfMemoryException when none is free
   */
  public long allocate(FrameKind kind) {
    if (kind == FrameKind.FREE) {
      throw new IllegalArgumentException("kind: FREE (expected: DATA, PAGE_TABLE or KERNEL)");
    }
    long pfn;
    if (freeTop > 0) {
      pfn = freeStack[--freeTop];
    } else if (nextUntouchedPfn < frameCount) {
      pfn = nextUntouchedPfn++;
      ensureCapacity(nextUntouchedPfn);
    } else {
      throw new SimulatedOutOfMemoryException(frameCount);
    }
    claim(pfn, kind);
    return pfn;
  }

  /**
   * Allocates {@code count} physically contiguous frames aligned to {@code count} (a power of two),
   * for block mappings. Taken from never-used memory.
   *
   * <p>{@code // MODEL:} there is no buddy allocator; contiguous runs come from the untouched top
   * of memory and, once freed, return as single frames.
   */
  public long allocateContiguous(int count, FrameKind kind) {
    if (count <= 0 || Integer.bitCount(count) != 1) {
      throw new IllegalArgumentException("count: " + count + " (expected: a power of two)");
    }
    long first = (nextUntouchedPfn + count - 1) & -(long) count;
    if (first + count > frameCount) {
      throw new SimulatedOutOfMemoryException(frameCount);
    }
    ensureCapacity(first + count);
    for (long pfn = nextUntouchedPfn; pfn < first; pfn++) {
      pushFree(pfn);
    }
    nextUntouchedPfn = first + count;
    for (long pfn = first; pfn < first + count; pfn++) {
      claim(pfn, kind);
    }
    return first;
  }

  private void claim(long pfn, FrameKind kind) {
    int i = (int) pfn;
    kinds[i] = (byte) kind.ordinal();
    allocationStamps[i] = ++allocationSequence;
    framesInUse++;
    if (frameNodes != null) {
      int node = nodeForClaim();
      frameNodes[i] = (byte) node;
      nodeFramesInUse[node]++;
    }
    if (kind == FrameKind.PAGE_TABLE) {
      long[] table = tableDescriptors[i];
      if (table == null) {
        tableDescriptors[i] = new long[DESCRIPTORS_PER_TABLE];
      } else if (nonZeroDescriptors[i] != 0) {
        java.util.Arrays.fill(table, 0L);
        nonZeroDescriptors[i] = 0;
      }
    }
    if (listener != null) {
      listener.frameAllocated(pfn, kind, allocationSequence);
    }
  }

  /**
   * Returns a frame to the free pool.
   *
   * @throws IllegalStateException on a double free: a kernel-model bug, not a workload outcome
   */
  public void free(long pfn) {
    FrameKind previous = kind(pfn);
    int i = (int) pfn;
    if (previous == FrameKind.FREE) {
      throw new IllegalStateException("frame " + pfn + " freed twice");
    }
    kinds[i] = (byte) FrameKind.FREE.ordinal();
    pushFree(pfn);
    framesInUse--;
    if (frameNodes != null) {
      nodeFramesInUse[frameNodes[i]]--;
    }
    if (listener != null) {
      listener.frameFreed(pfn, previous);
    }
  }

  public FrameKind kind(long pfn) {
    checkPfn(pfn);
    return pfn < kinds.length ? FrameKind.of(kinds[(int) pfn]) : FrameKind.FREE;
  }

  /** Returns whether the frame exists and is allocated. */
  public boolean isAllocated(long pfn) {
    return pfn > 0 && pfn < kinds.length && kinds[(int) pfn] != 0;
  }

  /** Returns whether the frame currently holds a page table. */
  public boolean isPageTable(long pfn) {
    return pfn > 0 && pfn < kinds.length && kinds[(int) pfn] == FrameKind.PAGE_TABLE.ordinal();
  }

  /** The allocation stamp of the frame's current (or last) allocation. */
  public long allocationStamp(long pfn) {
    return pfn < allocationStamps.length ? allocationStamps[(int) pfn] : 0L;
  }

  /**
   * Returns whether a translation filled when the sequence stood at {@code fillStamp} may still be
   * used to reach {@code pfn}: the frame is allocated and was not allocated again since.
   */
  public boolean isCurrent(long pfn, long fillStamp) {
    if (pfn <= 0 || pfn >= kinds.length) {
      return false;
    }
    int i = (int) pfn;
    return kinds[i] != 0 && allocationStamps[i] <= fillStamp;
  }

  /**
   * Bumps the frame's content version (each write through a translation is one version) and
   * remembers the latest simulated cycle at which the frame was written.
   *
   * <p>{@code // MODEL:} a kernel call's stretch between two interleaving points may run ahead of
   * another core, so that core can store after (in host order) the call read the version although
   * the store came earlier in simulated time; the cycle lets a checker tell such an earlier store
   * from a later one.
   */
  public void recordWrite(long pfn, long cycle) {
    if (pfn > 0 && pfn < contentVersions.length) {
      int i = (int) pfn;
      contentVersions[i]++;
      if (cycle > lastWriteCycles[i]) {
        lastWriteCycles[i] = cycle;
      }
    }
  }

  /**
   * The latest simulated cycle at which the frame was written through a translation; 0 if never.
   */
  public long lastWriteCycle(long pfn) {
    return pfn > 0 && pfn < lastWriteCycles.length ? lastWriteCycles[(int) pfn] : 0L;
  }

  public long contentVersion(long pfn) {
    return pfn < contentVersions.length ? contentVersions[(int) pfn] : 0L;
  }

  /**
   * Reads descriptor {@code index} of the table in frame {@code tablePfn}; 0 if the frame holds no
   * table.
   */
  public long readDescriptor(long tablePfn, int index) {
    long[] table = tablePfn < tableDescriptors.length ? tableDescriptors[(int) tablePfn] : null;
    return table == null ? 0L : table[index];
  }

  /**
   * Whether every descriptor of the table in frame {@code tablePfn} is 0 (also when the frame never
   * held a table), without reading them.
   */
  public boolean tableEmpty(long tablePfn) {
    return tablePfn >= nonZeroDescriptors.length || nonZeroDescriptors[(int) tablePfn] == 0;
  }

  /**
   * Writes descriptor {@code index} of the table in frame {@code tablePfn}, which must hold a
   * table.
   */
  public void writeDescriptor(long tablePfn, int index, long descriptor) {
    if (!isPageTable(tablePfn)) {
      throw new IllegalStateException(
          "frame " + tablePfn + " is " + kind(tablePfn) + ", not a page table");
    }
    long[] table = tableDescriptors[(int) tablePfn];
    long previous = table[index];
    table[index] = descriptor;
    if (previous == 0) {
      if (descriptor != 0) {
        nonZeroDescriptors[(int) tablePfn]++;
      }
    } else if (descriptor == 0) {
      nonZeroDescriptors[(int) tablePfn]--;
    }
    if (descriptorListener != null) {
      descriptorListener.descriptorWritten(tablePfn, index, previous, descriptor);
    }
  }

  private void checkPfn(long pfn) {
    if (pfn <= 0 || pfn >= frameCount) {
      throw new IllegalArgumentException(
          "pfn: " + pfn + " (expected: 1 to " + (frameCount - 1) + ")");
    }
  }
}
