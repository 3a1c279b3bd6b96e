package org.mmuemu.kernel.vmalloc;

import org.mmuemu.core.machine.Machine;

/**
 * A kernel lock modelled in simulated time: it remembers the cycle at which its last holder
 * released it, and a core that acquires it earlier waits until then, so contention shows in the
 * caller's latency. Each acquisition costs {@code lockCycles}.
 *
 * <p>{@code // MODEL:} kernel calls are atomic steps, so a hold is fixed in history when it ends; a
 * core that asks at a simulated time before the last holder took the lock still waits for its
 * release (an over-estimate of contention, never an under-estimate). Spinlocks and mutexes are
 * modelled alike: a waiting core's clock simply advances.
 *
 * <p>Confined to the simulation thread.
 */
public final class SimLock {
  private final String name;
  private long freeAtCycle;
  private long acquisitions;
  private long contendedAcquisitions;
  private long waitCycles;

  public SimLock(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  /**
   * Takes the lock on {@code core}, waiting for the last release if it lies in the core's future.
   */
  public void acquire(Machine machine, int core, long lockCycles) {
    long now = machine.now(core);
    if (freeAtCycle > now) {
      contendedAcquisitions++;
      waitCycles += freeAtCycle - now;
      machine.clocks().waitUntil(core, freeAtCycle);
    }
    machine.charge(core, lockCycles);
    acquisitions++;
  }

  /** Releases the lock at {@code core}'s current time. */
  public void release(Machine machine, int core) {
    freeAtCycle = Math.max(freeAtCycle, machine.now(core));
  }

  public long acquisitions() {
    return acquisitions;
  }

  public long contendedAcquisitions() {
    return contendedAcquisitions;
  }

  /** Cycles cores spent waiting for this lock. */
  public long waitCycles() {
    return waitCycles;
  }
}
