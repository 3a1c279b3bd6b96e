package org.mmuemu.kernel.scenario;

import java.util.Arrays;

/**
 * What one segment of a schedule (the code one core runs from a choice point to the next) touched,
 * as conservative tokens for the explorer's partial-order reduction: two segments whose footprints
 * are {@linkplain #independent independent} reach the same state in either order (see
 * docs/scenarios.md, "Partial-order reduction").
 *
 * <p>The tokens, and when two segments depend on each other:
 *
 * <ul>
 *   <li>{@code time}: the segment started or ended while an effect was on its way (an invalidation
 *       not yet arrived, an interrupt not yet delivered, acknowledgements awaited), sent or took an
 *       IPI, waited on a barrier, blocked, or more than one core ran in it: dependent with every
 *       segment;
 *   <li>{@code kernel}: kernel code ran (a kernel call, a fault, a scenario step other than a load
 *       or store): dependent with every segment. The kernel's data structures are Java objects the
 *       model does not instrument, and the bugs are lock-free windows in exactly those;
 *   <li>{@code walked}: a hardware walk read the page tables (and may have set accessed or dirty
 *       flags): dependent with another walk;
 *   <li>frames: the physical frames user accesses reached: dependent when one frame is in both;
 *   <li>cores: the cores that ran: dependent when one core is in both.
 * </ul>
 *
 * <p>Mutable while its segment runs; then kept, never changed.
 */
final class Footprint {
  private boolean time;
  private boolean kernel;
  private boolean walked;
  private long coreMask;
  private long[] frames = new long[4];
  private int frameCount;

  void ranOn(int core) {
    coreMask |= 1L << core;
  }

  void time() {
    time = true;
  }

  void kernel() {
    kernel = true;
  }

  void walked() {
    walked = true;
  }

  void frame(long pfn) {
    for (int i = 0; i < frameCount; i++) {
      if (frames[i] == pfn) {
        return;
      }
    }
    if (frameCount == frames.length) {
      frames = Arrays.copyOf(frames, frameCount * 2);
    }
    frames[frameCount++] = pfn;
  }

  /**
   * Whether either order of the two segments reaches the same state (up to the two cores' clocks).
   */
  boolean independent(Footprint other) {
    if (time || other.time || kernel || other.kernel || (coreMask & other.coreMask) != 0) {
      return false;
    }
    if (walked && other.walked) {
      return false;
    }
    for (int i = 0; i < frameCount; i++) {
      for (int j = 0; j < other.frameCount; j++) {
        if (frames[i] == other.frames[j]) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return (time ? "time " : "")
        + (kernel ? "kernel " : "")
        + (walked ? "walk " : "")
        + "cores=0x"
        + Long.toHexString(coreMask)
        + " frames="
        + Arrays.toString(Arrays.copyOf(frames, frameCount));
  }
}
