package org.mmuemu.kernel.numa;

/**
 * NUMA balancing's state of one VMA (Linux {@code struct vma_numab_state}, 6.4): when the scanner
 * may first scan it, and which tasks took NUMA hinting faults in it, as one bit per PID modulo 64
 * in two windows that age every {@code VMA_PID_RESET_PERIOD}.
 *
 * <p>PIDs that agree in their low 6 bits share a bit, so a task may scan a VMA only another task
 * used (a false positive Linux accepts). Confined to the simulation thread.
 */
final class VmaNumabState {
  /** Bits of PID per VMA: {@code BITS_PER_LONG} on a 64-bit kernel. */
  static final int PID_BITS = 64;

  private final long endVa;
  private final long nextScanCycle;
  private long pidResetCycle;
  private long pidsOlder;
  private long pidsRecent;

  /**
   * A state created when the scanner first meets the VMA ending at {@code endVa} at {@code
   * nowCycle}: not scanned before {@code nowCycle + scanDelayCycles} (except during the mm's first
   * pass), its PID bits first aged {@code resetPeriodCycles} after that.
   */
  VmaNumabState(long endVa, long nowCycle, long scanDelayCycles, long resetPeriodCycles) {
    this.endVa = endVa;
    this.nextScanCycle = nowCycle + scanDelayCycles;
    this.pidResetCycle = nextScanCycle + resetPeriodCycles;
  }

  /** The end of the VMA this state was made for (a VMA that changed gets a new state). */
  long endVa() {
    return endVa;
  }

  /** Whether the scan delay for a new VMA has not passed yet at {@code nowCycle}. */
  boolean tooNewToScan(long nowCycle) {
    return nowCycle < nextScanCycle;
  }

  /** A task with {@code pid} took a hinting fault here ({@code vma_set_access_pid_bit}). */
  void recordAccess(int pid) {
    pidsRecent |= pidBit(pid);
  }

  /**
   * Ages the PID bits when {@code nowCycle} passed the reset time: the recent window becomes the
   * older one and a new recent window starts empty.
   */
  void ageIfDue(long nowCycle, long resetPeriodCycles) {
    if (nowCycle > pidResetCycle) {
      pidResetCycle += resetPeriodCycles;
      pidsOlder = pidsRecent;
      pidsRecent = 0;
    }
  }

  /** Whether a task with {@code pid} took a hinting fault here in either window. */
  boolean accessedBy(int pid) {
    return ((pidsOlder | pidsRecent) & pidBit(pid)) != 0;
  }

  private static long pidBit(int pid) {
    return 1L << Math.floorMod(pid, PID_BITS);
  }
}
