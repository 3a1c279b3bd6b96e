package org.mmuemu.kernel.lock;

import org.mmuemu.core.machine.Machine;

/**
 * A kernel lock held over a real interval of simulated time: from the holder's acquire to its
 * release. Acquire is an interleaving point, taken before the lock is looked at, so every other
 * core has reached the acquiring core's time: a free lock is taken at once; a held one queues the
 * core and blocks it until the holder releases, at which time the lock passes to the first waiter
 * (queued order, as Linux's ticket and queued spinlocks and its mutex wait list serve them). Each
 * acquisition costs {@code lockCycles}.
 *
 * <p>A {@linkplain Kind#SPINLOCK spinlock} waiter spins: its wait is busy cycles. A {@linkplain
 * Kind#MUTEX mutex} waiter sleeps: the same interval, counted as sleep.
 *
 * <p>{@code // MODEL:} a sleeping waiter resumes at the release time: no scheduler wake-up latency
 * and no optimistic spinning (the model runs one task per CPU, so a sleeping CPU has nothing else
 * to do). Outside a scheduled run (set-up, tests driving calls by hand) a lock is never contended:
 * finding it held there is a bug in the caller.
 *
 * <p>Confined to the baton holder.
 */
public final class SimLock {
  /** How a waiter waits. */
  public enum Kind {
    /** Busy-waits (spin_lock): the wait is spent spinning. */
    SPINLOCK,
    /** Sleeps (mutex_lock, down_write): the wait is spent asleep. */
    MUTEX
  }

  private static final int NO_HOLDER = -1;

  private final String name;
  private final Kind kind;
  private int holder = NO_HOLDER;
  private int[] waiters = new int[4];
  private int waiterHead;
  private int waiterCount;
  private long acquisitions;
  private long contendedAcquisitions;
  private long waitCycles;
  private long heldCycles;
  private long acquiredAtCycle;
  private long releasedAtCycle;

  /** A spinlock. */
  public SimLock(String name) {
    this(name, Kind.SPINLOCK);
  }

  public SimLock(String name, Kind kind) {
    this.name = name;
    this.kind = kind;
  }

  public String name() {
    return name;
  }

  public Kind kind() {
    return kind;
  }

  /**
   * Takes the lock on {@code core}: an interleaving point, then at once when free, else after the
   * holder and every earlier waiter have released it.
   *
   * @throws IllegalStateException when {@code core} already holds it, or it is held outside a run
   */
  public void acquire(Machine machine, int core, long lockCycles) {
    machine.interleave(core);
    if (holder == core) {
      throw new IllegalStateException(name + ": core " + core + " already holds it");
    }
    if (holder == NO_HOLDER && releasedAtCycle > machine.now(core)) {
      // The last holder took the lock at or before our time (it was the earliest core then) and
      // released it in a stretch that ran ahead of us: at our time it is still held.
      contendedAcquisitions++;
      waitCycles += releasedAtCycle - machine.now(core);
      machine.clocks().waitUntil(core, releasedAtCycle);
    } else if (holder != NO_HOLDER) {
      if (!machine.scheduling()) {
        throw new IllegalStateException(
            name + ": held by core " + holder + " while core " + core + " runs outside a run");
      }
      long start = machine.now(core);
      enqueue(core);
      contendedAcquisitions++;
      machine.block(core); // release() hands the lock over and wakes us at its time
      waitCycles += machine.now(core) - start;
    }
    holder = core;
    acquiredAtCycle = machine.now(core);
    machine.charge(core, lockCycles);
    acquisitions++;
  }

  /**
   * Releases the lock at {@code core}'s time, handing it to the first waiter. The release need not
   * wait for the other cores to reach this time: one that asks earlier in simulated time finds the
   * release time still ahead of it and spins until then.
   *
   * @throws IllegalStateException when {@code core} does not hold it
   */
  public void release(Machine machine, int core) {
    if (holder != core) {
      throw new IllegalStateException(
          name + ": released by core " + core + " but held by " + describeHolder());
    }
    long now = machine.now(core);
    heldCycles += now - acquiredAtCycle;
    releasedAtCycle = now;
    holder = NO_HOLDER;
    if (waiterCount > 0) {
      int next = dequeue();
      holder = next;
      machine.wake(next, now);
    }
  }

  /** Whether some core holds the lock. */
  public boolean isHeld() {
    return holder != NO_HOLDER;
  }

  private String describeHolder() {
    return holder == NO_HOLDER ? "nobody" : "core " + holder;
  }

  private void enqueue(int core) {
    if (waiterCount == waiters.length) {
      int[] grown = new int[waiters.length * 2];
      for (int i = 0; i < waiterCount; i++) {
        grown[i] = waiters[(waiterHead + i) % waiters.length];
      }
      waiters = grown;
      waiterHead = 0;
    }
    waiters[(waiterHead + waiterCount) % waiters.length] = core;
    waiterCount++;
  }

  private int dequeue() {
    int core = waiters[waiterHead];
    waiterHead = (waiterHead + 1) % waiters.length;
    waiterCount--;
    return core;
  }

  public long acquisitions() {
    return acquisitions;
  }

  public long contendedAcquisitions() {
    return contendedAcquisitions;
  }

  /** Cycles cores spent waiting for this lock (spinning or asleep, as its kind says). */
  public long waitCycles() {
    return waitCycles;
  }

  /** Cycles the lock was held, summed over its holds. */
  public long heldCycles() {
    return heldCycles;
  }
}
