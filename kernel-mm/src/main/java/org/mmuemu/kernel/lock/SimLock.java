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
 * <p>{@code // MODEL:} spinlocks and sleeping mutexes ({@code vmap_purge_lock}, {@code
 * pcpu_alloc_mutex}) wait alike: the waiter blocks and resumes at the release time. A sleeping
 * waiter has no scheduler wake-up latency and no optimistic spinning (the model runs one task per
 * CPU, so a sleeping CPU has nothing else to do). Outside a scheduled run (set-up, tests driving
 * calls by hand) a lock is never contended: finding it held there is a bug in the caller.
 *
 * <p>Confined to the baton holder.
 */
public final class SimLock {
  private static final int NO_HOLDER = -1;

  private final String name;
  private final String acquirePoint;
  private final WaitQueue waiters = new WaitQueue();
  private int holder = NO_HOLDER;
  private long contendedAcquisitions;
  private long waitCycles;
  private long releasedAtCycle;

  public SimLock(String name) {
    this.name = name;
    this.acquirePoint = "lock:" + name;
  }

  public String name() {
    return name;
  }

  /**
   * Takes the lock on {@code core}: an interleaving point, then at once when free, else after the
   * holder and every earlier waiter have released it.
   *
   * @throws IllegalStateException when {@code core} already holds it, or it is held outside a run
   */
  public void acquire(Machine machine, int core, long lockCycles) {
    machine.lockPoint(core, acquirePoint);
    if (holder == core) {
      throw new IllegalStateException(name + ": core " + core + " already holds it");
    }
    long start = machine.now(core);
    boolean contended = holder != NO_HOLDER || releasedAtCycle > start;
    boolean blocked = holder != NO_HOLDER;
    if (blocked) {
      if (!machine.scheduling()) {
        throw new IllegalStateException(
            name + ": held by core " + holder + " while core " + core + " runs outside a run");
      }
      waiters.add(core);
      machine.block(core); // release() hands the lock over and wakes us at its time
    } else if (releasedAtCycle > start) {
      // The last holder took the lock at or before our time (it was the earliest core then) and
      // released it in a stretch that ran ahead of us: at our time it is still held.
      machine.clocks().waitUntil(core, releasedAtCycle);
    }
    if (contended) {
      contendedAcquisitions++;
      waitCycles += machine.now(core) - start;
    }
    holder = core;
    if (contended && !blocked) {
      machine.catchUp(core); // the wait took us past cores that must run first; we hold it now
    }
    machine.charge(core, lockCycles);
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
    releasedAtCycle = machine.now(core);
    holder = NO_HOLDER;
    if (!waiters.isEmpty()) {
      holder = waiters.poll();
      machine.wake(holder, releasedAtCycle);
    }
  }

  private String describeHolder() {
    return holder == NO_HOLDER ? "nobody" : "core " + holder;
  }

  public long contendedAcquisitions() {
    return contendedAcquisitions;
  }

  /** Cycles cores spent waiting for this lock. */
  public long waitCycles() {
    return waitCycles;
  }
}
