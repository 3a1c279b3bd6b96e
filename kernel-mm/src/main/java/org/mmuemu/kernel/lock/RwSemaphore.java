package org.mmuemu.kernel.lock;

import org.mmuemu.core.machine.Machine;

/**
 * A sleeping reader-writer semaphore held over real intervals of simulated time (Linux's {@code
 * rw_semaphore}, as {@code mmap_lock} is): any number of readers or one writer. Every down is an
 * interleaving point taken before the semaphore is looked at, so every other core has reached the
 * acting core's time; an up need not wait, since a core that asks earlier in simulated time finds
 * the release time still ahead of it and sleeps until then. Waiters sleep in one queue in arrival
 * order; a release wakes the writer at the head, or every reader at the head up to the next writer,
 * at the release time. A reader that arrives while a writer waits queues behind it (Linux's rwsem
 * does not let readers starve a writer).
 *
 * <p>{@code // MODEL:} no optimistic spinning on the owner and no reader bias; a woken waiter
 * resumes at the release time with no wake-up latency (one task per CPU: a sleeping CPU has nothing
 * else to run). Outside a scheduled run the semaphore is never contended.
 *
 * <p>Confined to the baton holder.
 */
public final class RwSemaphore {
  private final String name;
  private final String acquirePoint;
  private final String counterPrefix;
  // Queued cores as (core << 1 | 1 when it wants to write), in arrival order.
  private final WaitQueue waiters = new WaitQueue();
  private int readers;
  private int writer = -1;
  private long writerReleasedAtCycle;
  private long readerReleasedAtCycle;

  /**
   * @param counterPrefix the run's kernel counters for its waits: {@code <prefix>Contended} and
   *     {@code <prefix>WaitCycles}, summed over every semaphore of that prefix
   */
  public RwSemaphore(String name, String counterPrefix) {
    this.name = name;
    this.acquirePoint = "lock:" + name;
    this.counterPrefix = counterPrefix;
  }

  public String name() {
    return name;
  }

  /** {@code down_read}: shares the semaphore, after any writer holding or waiting for it. */
  public void downRead(Machine machine, int core, long lockCycles) {
    machine.lockPoint(core, acquirePoint);
    if (writer < 0 && waiters.isEmpty()) {
      boolean waited = waitForReleaseAhead(machine, core, writerReleasedAtCycle);
      readers++;
      if (waited) {
        machine.catchUp(core);
      }
    } else {
      sleep(machine, core, false);
    }
    machine.charge(core, lockCycles);
  }

  /**
   * {@code down_read_trylock}: shares the semaphore when no writer holds it, waits for it or held
   * it at this core's time (a release made ahead of us in simulated time); never sleeps. An
   * interleaving point like every acquire, and charged {@code lockCycles} whether it succeeds or
   * not (the atomic on the semaphore's line is paid either way).
   *
   * @return whether the semaphore is now shared by {@code core}
   */
  public boolean tryDownRead(Machine machine, int core, long lockCycles) {
    machine.lockPoint(core, acquirePoint);
    boolean free = writer < 0 && waiters.isEmpty() && writerReleasedAtCycle <= machine.now(core);
    if (free) {
      readers++;
    }
    machine.charge(core, lockCycles);
    return free;
  }

  /** Whether {@code core} holds the semaphore for write. */
  public boolean isWriteHeldBy(int core) {
    return writer == core;
  }

  /** Readers holding the semaphore now. */
  public int readers() {
    return readers;
  }

  /** {@code up_read}. */
  public void upRead(Machine machine, int core) {
    if (readers == 0) {
      throw new IllegalStateException(name + ": up_read by core " + core + " with no reader");
    }
    readers--;
    readerReleasedAtCycle = Math.max(readerReleasedAtCycle, machine.now(core));
    if (readers == 0) {
      wakeWaiters(machine, machine.now(core));
    }
  }

  /** {@code down_write}: owns the semaphore alone, after every holder and earlier waiter. */
  public void downWrite(Machine machine, int core, long lockCycles) {
    machine.lockPoint(core, acquirePoint);
    if (writer < 0 && readers == 0 && waiters.isEmpty()) {
      boolean waited =
          waitForReleaseAhead(
              machine, core, Math.max(writerReleasedAtCycle, readerReleasedAtCycle));
      writer = core;
      if (waited) {
        machine.catchUp(core);
      }
    } else {
      sleep(machine, core, true);
    }
    machine.charge(core, lockCycles);
  }

  /** {@code up_write}. */
  public void upWrite(Machine machine, int core) {
    checkWriter(core, "up_write");
    writer = -1;
    writerReleasedAtCycle = machine.now(core);
    wakeWaiters(machine, machine.now(core));
  }

  /**
   * {@code downgrade_write}: the writer becomes a reader, and the readers queued at the head join
   * it.
   */
  public void downgradeWrite(Machine machine, int core) {
    checkWriter(core, "downgrade_write");
    writer = -1;
    writerReleasedAtCycle = machine.now(core);
    readers = 1;
    wakeReaders(machine, machine.now(core));
  }

  /**
   * A holder whose hold began at or before our time (it was the earliest core when it took the
   * semaphore) may have released it in a stretch that ran ahead of us: at our time it is still
   * held, so we sleep until its release. Returns whether we did: the caller takes the semaphore,
   * then lets the cores the wait took us past run first ({@link Machine#catchUp}).
   */
  private boolean waitForReleaseAhead(Machine machine, int core, long releasedAtCycle) {
    long now = machine.now(core);
    if (releasedAtCycle > now) {
      machine.clocks().waitUntil(core, releasedAtCycle);
      countWait(machine, releasedAtCycle - now);
      return true;
    }
    return false;
  }

  private void checkWriter(int core, String what) {
    if (writer != core) {
      throw new IllegalStateException(
          name + ": " + what + " by core " + core + " but the writer is " + writer);
    }
  }

  private void sleep(Machine machine, int core, boolean asWriter) {
    if (!machine.scheduling()) {
      throw new IllegalStateException(
          name + ": contended by core " + core + " outside a scheduled run");
    }
    waiters.add(core << 1 | (asWriter ? 1 : 0));
    long start = machine.now(core);
    machine.block(core); // wakeWaiters grants the semaphore to us before waking us
    countWait(machine, machine.now(core) - start);
  }

  private void countWait(Machine machine, long waitedCycles) {
    machine.stats().addKernelCounter(counterPrefix + "Contended", 1);
    machine.stats().addKernelCounter(counterPrefix + "WaitCycles", waitedCycles);
  }

  private void wakeWaiters(Machine machine, long atCycle) {
    if (waiters.isEmpty()) {
      return;
    }
    if (wantsWrite(waiters.peek())) {
      if (readers == 0) {
        writer = waiters.poll() >>> 1;
        machine.wake(writer, atCycle);
      }
      return;
    }
    wakeReaders(machine, atCycle);
  }

  private void wakeReaders(Machine machine, long atCycle) {
    while (!waiters.isEmpty() && !wantsWrite(waiters.peek())) {
      readers++;
      machine.wake(waiters.poll() >>> 1, atCycle);
    }
  }

  private static boolean wantsWrite(int entry) {
    return (entry & 1) != 0;
  }
}
