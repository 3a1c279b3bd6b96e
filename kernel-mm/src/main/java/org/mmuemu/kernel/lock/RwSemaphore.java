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
  private final String counterPrefix;
  private int readers;
  private int writer = -1;
  private long writerReleasedAtCycle;
  private long readerReleasedAtCycle;
  private int[] queuedCore = new int[8];
  private boolean[] queuedWriter = new boolean[8];
  private int head;
  private int count;
  private long acquisitions;
  private long contended;
  private long waitCycles;

  /**
   * @param counterPrefix the run's kernel counters for its waits: {@code <prefix>Contended} and
   *     {@code <prefix>WaitCycles}, summed over every semaphore of that prefix
   */
  public RwSemaphore(String name, String counterPrefix) {
    this.name = name;
    this.counterPrefix = counterPrefix;
  }

  public String name() {
    return name;
  }

  /** {@code down_read}: shares the semaphore, after any writer holding or waiting for it. */
  public void downRead(Machine machine, int core, long lockCycles) {
    machine.interleave(core);
    if (writer < 0 && count == 0) {
      waitForReleaseAhead(machine, core, writerReleasedAtCycle);
      readers++;
    } else {
      sleep(machine, core, false);
    }
    machine.charge(core, lockCycles);
    acquisitions++;
  }

  /** {@code down_read_trylock}: shares it only when that needs no wait. */
  public boolean tryDownRead(Machine machine, int core, long lockCycles) {
    machine.interleave(core);
    if (writer >= 0 || count > 0 || writerReleasedAtCycle > machine.now(core)) {
      return false;
    }
    readers++;
    machine.charge(core, lockCycles);
    acquisitions++;
    return true;
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
    machine.interleave(core);
    if (writer < 0 && readers == 0 && count == 0) {
      waitForReleaseAhead(machine, core, Math.max(writerReleasedAtCycle, readerReleasedAtCycle));
      writer = core;
    } else {
      sleep(machine, core, true);
    }
    machine.charge(core, lockCycles);
    acquisitions++;
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
   * held, so we sleep until its release.
   */
  private void waitForReleaseAhead(Machine machine, int core, long releasedAtCycle) {
    long now = machine.now(core);
    if (releasedAtCycle > now) {
      contended++;
      waitCycles += releasedAtCycle - now;
      machine.stats().addKernelCounter(counterPrefix + "Contended", 1);
      machine.stats().addKernelCounter(counterPrefix + "WaitCycles", releasedAtCycle - now);
      machine.clocks().waitUntil(core, releasedAtCycle);
    }
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
    enqueue(core, asWriter);
    contended++;
    long start = machine.now(core);
    machine.block(core); // wakeWaiters grants the semaphore to us before waking us
    long waited = machine.now(core) - start;
    waitCycles += waited;
    machine.stats().addKernelCounter(counterPrefix + "Contended", 1);
    machine.stats().addKernelCounter(counterPrefix + "WaitCycles", waited);
  }

  private void wakeWaiters(Machine machine, long atCycle) {
    if (count == 0) {
      return;
    }
    if (queuedWriter[head]) {
      if (readers == 0) {
        writer = dequeue();
        machine.wake(writer, atCycle);
      }
      return;
    }
    wakeReaders(machine, atCycle);
  }

  private void wakeReaders(Machine machine, long atCycle) {
    while (count > 0 && !queuedWriter[head]) {
      readers++;
      machine.wake(dequeue(), atCycle);
    }
  }

  private void enqueue(int core, boolean asWriter) {
    if (count == queuedCore.length) {
      int[] cores = new int[count * 2];
      boolean[] writers = new boolean[count * 2];
      for (int i = 0; i < count; i++) {
        cores[i] = queuedCore[(head + i) % queuedCore.length];
        writers[i] = queuedWriter[(head + i) % queuedCore.length];
      }
      queuedCore = cores;
      queuedWriter = writers;
      head = 0;
    }
    int tail = (head + count) % queuedCore.length;
    queuedCore[tail] = core;
    queuedWriter[tail] = asWriter;
    count++;
  }

  private int dequeue() {
    int core = queuedCore[head];
    head = (head + 1) % queuedCore.length;
    count--;
    return core;
  }

  public long acquisitions() {
    return acquisitions;
  }

  /** Acquisitions that had to sleep. */
  public long contended() {
    return contended;
  }

  /** Cycles cores slept waiting for the semaphore. */
  public long waitCycles() {
    return waitCycles;
  }
}
