package org.mmuemu.kernel.mm;

import java.util.Map;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;

/**
 * Linux 6.4's per-VMA locks (DOMAIN-FAULTS.md §1; include/linux/mm.h {@code vma_start_read}, {@code
 * vma_end_read}, {@code vma_start_write}, {@code vma_end_write_all}; mm/memory.c {@code
 * lock_vma_under_rcu}) on the state of {@link Mm} and {@link VmaLock}, with the always-on checks of
 * invariants VL1 to VL4 (violation kind {@code VMA_LOCK}).
 *
 * <p>With {@code faultLocking=perVma} an anonymous fault first tries {@link #lockVmaUnderRcu}: the
 * VMA found in the tree is read-locked unless it is write-locked (its {@code vm_lock_seq} equals
 * the mm's {@code mm_lock_seq}), a writer holds or waits for its rwsem, it has no {@code anon_vma}
 * yet, or it no longer covers the address; a detached VMA makes the lookup start again. A writer
 * holding {@code mmap_lock} for write marks each VMA it changes with {@link #vmaStartWrite}, which
 * waits for the VMA's readers; every VMA so marked stays write-locked until the mmap write lock is
 * released or downgraded ({@link #vmaEndWriteAll} advances {@code mm_lock_seq}). With {@code
 * faultLocking=mmapLock} (before 6.4) there are no VMA locks: {@link #perVma} is false, {@link
 * #vmaStartWrite} and {@link #vmaEndWriteAll} do nothing, and faults never call {@link
 * #lockVmaUnderRcu}.
 *
 * <p>Each rwsem operation (the VMA rwsem's trylock, its write lock, {@code mmap_lock}) is charged
 * {@code lockCycles}, the model's cost of an uncontended atomic lock and unlock on the lock's cache
 * line; comparing the sequence numbers is a plain load and costs nothing. {@code // MODEL:} the
 * bouncing of a contended lock's line between cores is not priced apart from that (it is what 6.4
 * removes from {@code mmap_lock}); the RCU read-side sections are free; the sequence numbers do not
 * wrap.
 *
 * <p>Causal time: a writer's unlock may lie ahead of a reader's clock (its segment ran ahead), so a
 * VMA locked in the mm's last write section counts as still write-locked for a reader whose clock
 * is before that section's end ({@link Mm#seqAdvancedAtCycle}); earlier sections ended before any
 * later lock acquire, so before the reader's clock.
 *
 * <p>Counters: {@code vmaLockSuccess}, {@code vmaLockAbort}, {@code vmaLockRetry}, {@code
 * vmaLockMiss} (Linux's {@code VMA_LOCK_*} vm events) always; the VMA rwsems' waits add {@code
 * vmaLockContended} and {@code vmaLockWaitCycles}. Confined to the simulation thread.
 */
public final class VmaLocking {
  private final Machine machine;
  private final boolean perVma;
  private final long lockCycles;
  private final long vmaLookupCycles;
  private final int[] probes = new int[1];
  private final int[] checkProbes = new int[1]; // the oracle's own lookups cost nothing
  // The VMA each core holds for read (a fault holds at most one) and its version then: VL1, VL2.
  private final VmaLock[] readHeld;
  private final long[] readVersion;
  private long success;
  private long abort;
  private long miss;
  private long retry;

  /**
   * @param perVma whether faults try the per-VMA lock first ({@code faultLocking=perVma})
   * @param lockCycles the cost of one rwsem operation (the kernel's {@code lockCycles})
   * @param vmaLookupCycles the cost per VMA tree node visited
   */
  public VmaLocking(Machine machine, boolean perVma, long lockCycles, long vmaLookupCycles) {
    this.machine = machine;
    this.perVma = perVma;
    this.lockCycles = lockCycles;
    this.vmaLookupCycles = vmaLookupCycles;
    this.readHeld = new VmaLock[machine.coreCount()];
    this.readVersion = new long[machine.coreCount()];
  }

  /**
   * {@code anon_vma_prepare} before an anonymous page is mapped in {@code vma} (a fault's, or
   * userfaultfd's marker fault's {@code vmf_anon_prepare}): the first such fault gives the VMA its
   * {@code anon_vma} (under the mm's {@code page_table_lock}, after looking at the neighbours for
   * one to share). A fault under the per-VMA lock never gets here with none yet: {@link
   * #lockVmaUnderRcu} refuses such a VMA.
   *
   * <p>{@code // MODEL:} the anon_vma and anon_vma_chain allocations are not charged.
   */
  public void anonVmaPrepare(int core, Mm mm, Vma vma) {
    if (mm.anonVmaPrepare(vma)) {
      machine.charge(core, lockCycles + vmaLookupCycles);
    }
  }

  /** Whether faults try the per-VMA lock ({@code faultLocking=perVma}). */
  public boolean perVma() {
    return perVma;
  }

  /** {@code mmap_write_lock}. */
  public void mmapWriteLock(int core, Mm mm) {
    mm.mmapLock().downWrite(machine, core, lockCycles);
  }

  /** {@code mmap_write_unlock}: every VMA write-locked in this section is released with it. */
  public void mmapWriteUnlock(int core, Mm mm) {
    vmaEndWriteAll(core, mm);
    mm.mmapLock().upWrite(machine, core);
  }

  /** {@code mmap_write_downgrade}: as {@link #mmapWriteUnlock}, keeping the lock for read. */
  public void mmapWriteDowngrade(int core, Mm mm) {
    vmaEndWriteAll(core, mm);
    mm.mmapLock().downgradeWrite(machine, core);
  }

  /**
   * {@code vma_end_write_all}: advances {@code mm_lock_seq}, so every VMA write-locked since the
   * mmap write lock was taken is unlocked at once. Only the unlock and the downgrade of the mmap
   * write lock call it; checks VL3 (the caller holds {@code mmap_lock} for write).
   */
  public void vmaEndWriteAll(int core, Mm mm) {
    if (!perVma) {
      return;
    }
    if (!mm.mmapLock().isWriteHeldBy(core)) {
      report(
          core,
          -1,
          "VL3: mm_lock_seq of mm "
              + mm.id()
              + " advanced by core "
              + core
              + ", which does not hold mmap_lock for write");
    }
    mm.advanceLockSeq(machine.now(core));
  }

  /**
   * {@code vma_start_write}: marks {@code vma} write-locked until the end of the caller's mmap
   * write section, after waiting for every reader of it; nothing when it already is. The caller
   * holds {@code mmap_lock} for write. Checks VL2 (no reader holds the VMA when this returns).
   */
  public void vmaStartWrite(int core, Mm mm, Vma vma) {
    if (!perVma) {
      return;
    }
    VmaLock lock = mm.vmaLock(vma);
    if (lock == null) {
      throw new IllegalArgumentException(
          "vma " + vma.name() + " is not a VMA of mm " + mm.id() + " (vma_start_write)");
    }
    if (lock.vmLockSeq() == mm.mmLockSeq()) {
      return;
    }
    lock.rwsem().downWrite(machine, core, lockCycles);
    for (int other = 0; other < readHeld.length; other++) {
      if (other != core && readHeld[other] == lock) {
        report(
            core,
            vma.startVa(),
            "VL2: vma_start_write on "
                + describe(lock)
                + " returned while core "
                + other
                + " still holds it for read");
      }
    }
    lock.setVmLockSeq(mm.mmLockSeq());
    lock.rwsem().upWrite(machine, core);
  }

  /**
   * {@code lock_vma_under_rcu} (6.4 with the 6.4.8 fix: {@code anon_vma} is checked under the VMA
   * lock): finds the VMA covering {@code va} and read-locks it. Fails ({@code VMA_LOCK_ABORT}) when
   * none covers it, it is not anonymous (a file mapping), {@link #vmaStartRead} fails, it has no
   * {@code anon_vma} yet (its first fault), or it no longer covers {@code va}; a detached VMA
   * ({@code VMA_LOCK_MISS}) makes it look again. Checks VL4 on what it returns.
   *
   * @return the VMA's current record, read-locked by {@code core} (release with {@link
   *     #vmaEndRead}), or null: the caller falls back to {@code mmap_lock}
   */
  public Vma lockVmaUnderRcu(int core, Mm mm, long va) {
    while (true) {
      Vma found = mm.findVma(va, probes); // mas_walk under rcu_read_lock
      machine.charge(core, probes[0] * vmaLookupCycles);
      if (found == null || found.mapsFile()) {
        abort++;
        return null;
      }
      VmaLock lock = mm.vmaLock(found);
      if (!vmaStartRead(core, mm, lock)) {
        abort++;
        return null;
      }
      if (!lock.hasAnonVma() || !lock.vma().contains(va)) {
        vmaEndRead(core);
        abort++;
        return null;
      }
      if (lock.detached()) {
        vmaEndRead(core);
        miss++;
        continue; // the range was unmapped or replaced after the lookup: look again
      }
      checkReturned(core, mm, va, lock);
      return lock.vma();
    }
  }

  /**
   * {@code vma_start_read}: fails when the VMA is write-locked (sequence numbers equal, or its last
   * write section ends ahead of this core's clock), when its rwsem's read trylock fails (a writer
   * holds it or waits in {@code vma_start_write}), or when the re-check after the trylock finds it
   * write-locked.
   */
  private boolean vmaStartRead(int core, Mm mm, VmaLock lock) {
    if (writeLocked(core, mm, lock)) {
      return false;
    }
    if (!lock.rwsem().tryDownRead(machine, core, lockCycles)) {
      return false;
    }
    if (writeLocked(core, mm, lock)) {
      lock.rwsem().upRead(machine, core);
      return false;
    }
    readHeld[core] = lock;
    readVersion[core] = lock.version();
    return true;
  }

  private boolean writeLocked(int core, Mm mm, VmaLock lock) {
    int seq = mm.mmLockSeq();
    return lock.vmLockSeq() == seq
        || (lock.vmLockSeq() == seq - 1 && mm.seqAdvancedAtCycle() > machine.now(core));
  }

  /**
   * {@code vma_end_read}: releases the VMA {@code core} read-locked. Checks VL1 (nothing of the VMA
   * changed while it was held).
   *
   * @throws IllegalStateException when {@code core} holds no VMA for read
   */
  public void vmaEndRead(int core) {
    VmaLock lock = readHeld[core];
    if (lock == null) {
      throw new IllegalStateException("vma_end_read by core " + core + ", which holds no VMA");
    }
    if (lock.version() != readVersion[core]) {
      report(
          core,
          lock.vma().startVa(),
          "VL1: "
              + describe(lock)
              + " changed "
              + (lock.version() - readVersion[core])
              + " time(s) while core "
              + core
              + " held it for read");
    }
    readHeld[core] = null;
    lock.rwsem().upRead(machine, core);
  }

  /**
   * The VL4 check on what {@link #lockVmaUnderRcu} returns: the VMA is attached, covers {@code va},
   * and is the one the mm's tree holds for {@code va} now.
   */
  public void checkReturned(int core, Mm mm, long va, VmaLock lock) {
    if (lock.detached() || !lock.vma().contains(va) || mm.findVma(va, checkProbes) != lock.vma()) {
      report(
          core,
          va,
          "VL4: lock_vma_under_rcu returned "
              + describe(lock)
              + (lock.detached() ? ", which is detached," : "")
              + " for va 0x"
              + Long.toHexString(va)
              + ", which the tree maps to "
              + mm.findVma(va, checkProbes));
    }
  }

  /**
   * Counts a fault that found, under the VMA lock, work 6.4 does only under {@code mmap_lock} (a
   * swap-style entry for {@code do_swap_page}, a userfault) and returned {@code VM_FAULT_RETRY}
   * ({@code VMA_LOCK_RETRY}); the caller drops the VMA lock and retries with {@code mmap_lock}.
   */
  public void countRetry() {
    retry++;
  }

  /** Counts a fault handled under the VMA lock alone ({@code VMA_LOCK_SUCCESS}). */
  public void countSuccess() {
    success++;
  }

  /** Adds the {@code VMA_LOCK_*} counters to {@code counters}. */
  public void addCounters(Map<String, Object> counters) {
    counters.put("vmaLockSuccess", success);
    counters.put("vmaLockAbort", abort);
    counters.put("vmaLockRetry", retry);
    counters.put("vmaLockMiss", miss);
  }

  private static String describe(VmaLock lock) {
    Vma vma = lock.vma();
    return "vma "
        + vma.name()
        + " [0x"
        + Long.toHexString(vma.startVa())
        + ", 0x"
        + Long.toHexString(vma.endVa())
        + ")";
  }

  private void report(int core, long va, String detail) {
    machine.oracle().report(ViolationKind.VMA_LOCK, core, machine.now(core), va, -1, -1, detail);
  }
}
