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
 * <p>Sparse like {@code PhysicalMemory}: one array covers the frames freed so far, growing by
 * doubling. These 24 bytes per frame are not yet in {@code PhysicalMemory.HOST_BYTES_PER_FRAME}
 * (64, whose refusal messages the CLI and control-port tests pin); raising it is a follow-up.
 * Confined to the simulation thread; {@link #staleSince} allocates nothing.
 */
public final class FrameFreeTimes {
  /** Host bytes each covered frame costs (three longs). */
  public static final int HOST_BYTES_PER_FRAME = 24;

  private static final int INITIAL_FRAMES = 1024;

  // One frame's three longs side by side, so a free touches one cache line rather than three.
  private static final int LONGS_PER_FRAME = 3;
  private static final int LAST_FREED_STAMP = 0;
  private static final int LAST_FREE_CYCLE = 1;
  private static final int PREVIOUS_FREE_CYCLE = 2;

  private long[] frames = new long[0];

  /**
   * Records that the allocation of {@code pfn} stamped {@code allocationStamp} ended at {@code
   * cycle} of the freeing core.
   */
  public void recordFree(long pfn, long allocationStamp, long cycle) {
    if (pfn >= coveredFrames()) {
      long capacity = Math.max(pfn + 1, Math.max(INITIAL_FRAMES, coveredFrames() * 2L));
      frames = Arrays.copyOf(frames, Math.toIntExact(capacity * LONGS_PER_FRAME));
    }
    int at = (int) pfn * LONGS_PER_FRAME;
    frames[at + PREVIOUS_FREE_CYCLE] = frames[at + LAST_FREE_CYCLE];
    frames[at + LAST_FREE_CYCLE] = cycle;
    frames[at + LAST_FREED_STAMP] = allocationStamp;
  }

  /**
   * Returns the cycle from which a translation to {@code pfn}, filled when the allocation sequence
   * stood at {@code fillStamp}, is stale; 0 for a frame never freed (a translation to a frame that
   * was never allocated is stale from the start). Only meaningful for a translation physical memory
   * already says is not current.
   */
  public long staleSince(long pfn, long fillStamp) {
    if (pfn < 0 || pfn >= coveredFrames()) {
      return 0;
    }
    int at = (int) pfn * LONGS_PER_FRAME;
    return frames[at + LAST_FREED_STAMP] <= fillStamp
        ? frames[at + LAST_FREE_CYCLE]
        : frames[at + PREVIOUS_FREE_CYCLE];
  }

  /** Returns the cycle of the frame's last free, 0 when it was never freed. */
  public long lastFreeCycle(long pfn) {
    return pfn >= 0 && pfn < coveredFrames()
        ? frames[(int) pfn * LONGS_PER_FRAME + LAST_FREE_CYCLE]
        : 0;
  }

  private int coveredFrames() {
    return frames.length / LONGS_PER_FRAME;
  }
}
