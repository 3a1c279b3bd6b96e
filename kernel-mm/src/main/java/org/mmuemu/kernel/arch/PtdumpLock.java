package org.mmuemu.kernel.arch;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.lock.RwSemaphore;

/**
 * How a software walk of the kernel page tables (ptdump, {@code mm/ptdump.c}) and the huge-vmap
 * path that frees a page table ({@code pmd_free_pte_page}) keep apart: init_mm's {@code mmap_lock}
 * and arm64's {@code arm64_ptdump_lock_key} ("arm64: Enable vmalloc-huge with ptdump", 2025).
 *
 * <p>ptdump enables the key and holds init_mm's mmap lock for write over its whole walk. With the
 * variant {@code ptdumpSync=staticKey} (the fix), the freeing path, after it has cleared the entry
 * and flushed the walk caches and before it frees the table, sees the key on and takes and drops
 * init_mm's mmap lock for read: it waits for a walk in progress, which may have read the entry
 * before it was cleared; a walk that starts later finds the entry cleared. With {@code none} the
 * table is freed at once.
 *
 * <p>{@code // MODEL:} x86 frees tables under the same rendezvous (Linux keeps x86's huge vmap and
 * ptdump apart by other means); the key's enable count stands for the static branch. Confined to
 * the simulation thread.
 */
public final class PtdumpLock {
  private final RwSemaphore initMmMmapLock = new RwSemaphore("init_mm.mmap_lock", "initMmLock");
  private final boolean staticKeySync;
  private final long lockCycles;
  private int keyEnables;

  /**
   * @param staticKeySync the variant {@code ptdumpSync=staticKey}
   * @param lockCycles an uncontended lock acquisition
   */
  public PtdumpLock(boolean staticKeySync, long lockCycles) {
    this.staticKeySync = staticKeySync;
    this.lockCycles = lockCycles;
  }

  /** ptdump starts: {@code static_branch_enable}, then init_mm's mmap lock for write. */
  public void beginWalk(Machine machine, int core) {
    keyEnables++;
    initMmMmapLock.downWrite(machine, core, lockCycles);
  }

  /** ptdump ends: the lock is released, then the key disabled. */
  public void endWalk(Machine machine, int core) {
    initMmMmapLock.upWrite(machine, core);
    keyEnables--;
  }

  /**
   * The freeing path between clearing a table's entry (and flushing) and freeing the table: with
   * the fix and the key on, waits for any walk in progress (counter {@code ptdumpTableFreeWaits}).
   */
  public void beforeTableFree(Machine machine, int core) {
    if (!staticKeySync || keyEnables == 0) {
      return;
    }
    initMmMmapLock.downRead(machine, core, lockCycles);
    initMmMmapLock.upRead(machine, core);
    machine.stats().addKernelCounter("ptdumpTableFreeWaits", 1);
  }
}
