package org.mmuemu.core.oracle;

import java.util.Arrays;

/**
 * When each frame was freed, so the oracle can judge a use of a translation at the using core's own
 * time: a TLB (or walk-cache) entry filled when the allocation sequence stood at {@code s} became
 * stale at the free that ended the frame's allocation current at {@code s}.
 *
 * <p>Per frame it keeps the cycle of its last two frees and the allocation stamp the last one
 * ended. That is exact for an entry whose allocation was freed by one of the last two frees (the
 * frame freed, or freed and reused and freed again, since the fill).
 *
 * <p>{@code // MODEL:} for a frame freed three or more times since an entry was filled, the entry
 * is taken to be stale from the older of the two frees kept, which is after its real free: a use
 * between the two may be missed, and none is ever stamped before a free.
 *
 * <p>Sparse like {@code PhysicalMemory}: the arrays cover the frames freed so far, growing by
 * doubling. These 24 bytes per frame are not yet in {@code PhysicalMemory.HOST_BYTES_PER_FRAME}
 * (64, whose refusal messages the CLI and control-port tests pin); raising it is a follow-up.
 * Confined to the simulation thread; {@link #staleSince} allocates nothing.
 */
public final class FrameFreeTimes {
  /** Host bytes each covered frame costs (three longs). */
  public static final int HOST_BYTES_PER_FRAME = 24;

  private static final int INITIAL_FRAMES = 1024;
  private long[] lastFreedStamps = new long[0];
  private long[] lastFreeCycles = new long[0];
  private long[] previousFreeCycles = new long[0];

  /**
   * Records that the allocation of {@code pfn} stamped {@code allocationStamp} ended at {@code
   * cycle} of the freeing core.
   */
  public void recordFree(long pfn, long allocationStamp, long cycle) {
    if (pfn >= lastFreeCycles.length) {
      int capacity = (int) Math.max(pfn + 1, Math.max(INITIAL_FRAMES, lastFreeCycles.length * 2L));
      lastFreedStamps = Arrays.copyOf(lastFreedStamps, capacity);
      lastFreeCycles = Arrays.copyOf(lastFreeCycles, capacity);
      previousFreeCycles = Arrays.copyOf(previousFreeCycles, capacity);
    }
    int i = (int) pfn;
    previousFreeCycles[i] = lastFreeCycles[i];
    lastFreeCycles[i] = cycle;
    lastFreedStamps[i] = allocationStamp;
  }

  /**
   * Returns the cycle from which a translation to {@code pfn}, filled when the allocation sequence
   * stood at {@code fillStamp}, is stale; 0 for a frame never freed (a translation to a frame that
   * was never allocated is stale from the start). Only meaningful for a translation physical memory
   * already says is not current.
   */
  public long staleSince(long pfn, long fillStamp) {
    if (pfn < 0 || pfn >= lastFreeCycles.length) {
      return 0;
    }
    int i = (int) pfn;
    return lastFreedStamps[i] <= fillStamp ? lastFreeCycles[i] : previousFreeCycles[i];
  }

  /** Returns the cycle of the frame's last free, 0 when it was never freed. */
  public long lastFreeCycle(long pfn) {
    return pfn >= 0 && pfn < lastFreeCycles.length ? lastFreeCycles[(int) pfn] : 0;
  }
}
