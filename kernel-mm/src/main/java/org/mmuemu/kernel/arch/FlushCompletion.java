package org.mmuemu.kernel.arch;

/**
 * Whether a user TLB flush waits for its completion before it returns (variant {@code
 * tlbFlushWait}), and which cores owe that wait when it does not: the arch policies share it, each
 * with its own wait ({@code DSB ISH}, IPI acknowledgements, {@code TLBSYNC}).
 */
public final class FlushCompletion {
  private final boolean waits;
  private final boolean[] owed;

  public FlushCompletion(boolean waits, int cores) {
    this.waits = waits;
    this.owed = new boolean[cores];
  }

  /**
   * At the end of a user flush on {@code core}: whether the caller waits now (Linux); otherwise the
   * wait is owed, for {@link ArchTlbPolicy#completeDeferredFlush}.
   */
  public boolean waitNow(int core) {
    if (!waits) {
      owed[core] = true;
    }
    return waits;
  }

  /** Whether {@code core} owed a wait; it owes none afterwards. */
  public boolean takeOwed(int core) {
    boolean wasOwed = owed[core];
    owed[core] = false;
    return wasOwed;
  }
}
