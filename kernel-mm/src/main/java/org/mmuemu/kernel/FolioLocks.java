package org.mmuemu.kernel;

import java.util.HashMap;
import java.util.Map;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.lock.SimLock;

/**
 * Page locks ({@code folio_lock}, a sleeping lock in each page's flags), and the oracle's check on
 * taking one: Linux may lock only a page it holds a reference on, so the page cannot be freed under
 * the lock. Locking a frame that is free by then, or that was freed and allocated again since the
 * caller found it, is reported as {@code KERNEL_UAF}.
 *
 * <p>{@code // MODEL:} one {@link SimLock} per frame, created on first use (only the paths that
 * lock pages in this model use it). Confined to the simulation thread.
 */
final class FolioLocks {
  private final Machine machine;
  private final long lockCycles;
  private final Map<Long, SimLock> locks = new HashMap<>();
  private long uafLocks;

  FolioLocks(Machine machine, long lockCycles) {
    this.machine = machine;
    this.lockCycles = lockCycles;
  }

  /**
   * {@code folio_lock} of frame {@code pfn} on {@code core}, which found the page when the frame's
   * allocation stamp was {@code stampSeen}: waits while another core holds it, then checks that the
   * page it locked is still the one it found.
   *
   * @param where the kernel function taking the lock, for the report
   */
  void lock(int core, long pfn, long stampSeen, String where) {
    locks.computeIfAbsent(pfn, key -> new SimLock("folio_lock")).acquire(machine, core, lockCycles);
    PhysicalMemory memory = machine.memory();
    boolean freed = !memory.isAllocated(pfn);
    if (freed || memory.allocationStamp(pfn) != stampSeen) {
      uafLocks++;
      machine
          .oracle()
          .report(
              ViolationKind.KERNEL_UAF,
              core,
              machine.now(core),
              -1,
              pfn << PhysicalMemory.FRAME_SHIFT,
              pfn,
              where
                  + " locked the page in frame 0x"
                  + Long.toHexString(pfn)
                  + (freed
                      ? ", which is free (its reference count reached 0)"
                      : ", which was freed and allocated again since it was found")
                  + " without holding a reference on it");
    }
  }

  /** {@code folio_unlock}. */
  void unlock(int core, long pfn) {
    locks.get(pfn).release(machine, core);
  }

  /** Page locks taken on a page already freed (the counter {@code folioLocksAfterFree}). */
  long uafLocks() {
    return uafLocks;
  }
}
