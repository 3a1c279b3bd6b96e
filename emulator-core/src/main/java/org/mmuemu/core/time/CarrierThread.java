package org.mmuemu.core.time;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;

/**
 * The one platform thread that carries a run's virtual threads (Java 21+): the JDK submits a
 * virtual thread's continuation here each time it is unparked, and this thread runs them one after
 * another. A run hands its baton over millions of times, each a submission from the thread that
 * gives the baton up (itself mounted here), so a submission is one lock-free enqueue: no lock, no
 * condition signal, and a wake-up of this thread only when it had nothing to run.
 */
final class CarrierThread implements Executor {
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean idle;
  private volatile boolean shutdown;

  CarrierThread() {
    thread = new Thread(this::runTasks, "mmuemu-carrier");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    if (idle) {
      LockSupport.unpark(thread);
    }
  }

  /** Lets the thread end once it has run what was submitted. */
  void shutdown() {
    shutdown = true;
    LockSupport.unpark(thread);
  }

  private void runTasks() {
    while (true) {
      Runnable task = tasks.poll();
      if (task != null) {
        task.run();
        continue;
      }
      if (shutdown) {
        return;
      }
      idle = true;
      // Re-check after announcing idleness: a submission that saw idle == false has enqueued
      // before this poll, so it is found here instead of being slept on.
      if (tasks.isEmpty() && !shutdown) {
        LockSupport.park(this);
      }
      idle = false;
    }
  }
}
