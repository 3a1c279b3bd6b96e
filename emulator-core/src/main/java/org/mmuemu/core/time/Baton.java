package org.mmuemu.core.time;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The workers of one run and the baton that lets exactly one of them run simulation code at a time.
 * A kernel call that reaches an interleaving point while another core is earlier keeps its Java
 * stack on its worker (which pauses) and hands the baton on; whoever holds the baton next runs the
 * scheduler. Only the baton holder touches simulation state, so the simulation stays
 * single-threaded in effect and deterministic: which worker carries which core never changes a
 * result.
 *
 * <p>A worker is, by what the JVM offers (docs/time-model.md has the measured costs):
 *
 * <ul>
 *   <li>a continuation of the JDK's own ({@link Continuations}; Java 21+ with {@code
 *       jdk.internal.vm} opened to us, as the jar's manifest and the test JVMs do): all of them run
 *       on the thread that called {@link #runAndJoin}, which mounts whichever holds the baton, so a
 *       hand-over is a yield and a resume on one thread;
 *   <li>a virtual thread on the JDK's shared scheduler (Java 21+ otherwise, or {@code
 *       -Dmmuemu.threads=virtual});
 *   <li>a platform thread (Java 17-20, or {@code -Dmmuemu.threads=platform}): a hand-over is an
 *       unpark and a park, and the volatile baton publishes the previous holder's writes.
 * </ul>
 *
 * <p>This is the class of emulator-core allowed to use {@code java.util.concurrent} (the
 * architecture test names it).
 */
final class Baton {
  private static final MethodHandle VIRTUAL_UNSTARTED = virtualThreadFactory();

  /** Thrown on a paused worker to unwind its kernel call when the run is abandoned. */
  static final class Abandoned extends Error {
    private static final long serialVersionUID = 1L;

    Abandoned() {
      super("run abandoned", null, false, false);
    }
  }

  /** One host thread of the run, or one continuation. */
  static final class Worker {
    private final Thread thread;
    private final Object continuation;
    private boolean started;

    private Worker(Thread thread, Object continuation) {
      this.thread = thread;
      this.continuation = continuation;
    }
  }

  private final List<Worker> workers = new ArrayList<>();
  private final Thread owner = Thread.currentThread();
  private volatile Worker holder;
  private volatile boolean abandoned;
  private volatile boolean finished;

  /**
   * What this JVM's workers are: {@code continuation}, {@code virtual} (threads) or {@code
   * platform} (threads).
   */
  static String workerKind() {
    if (Continuations.AVAILABLE) {
      return "continuation";
    }
    return VIRTUAL_UNSTARTED != null ? "virtual" : "platform";
  }

  /** Creates a thread that will run {@code body} once it first receives the baton. */
  Worker newWorker(Runnable body, String name) {
    Worker worker;
    if (Continuations.AVAILABLE) {
      worker = new Worker(null, Continuations.create(body));
    } else {
      worker = new Worker(unstarted(body, name), null);
    }
    workers.add(worker);
    return worker;
  }

  /** The worker the calling thread is; only meaningful on a worker thread holding the baton. */
  Worker current() {
    return holder;
  }

  /** Gives the baton to {@code next} (starting its thread the first time) and returns at once. */
  void handTo(Worker next) {
    holder = next;
    if (next.continuation != null) {
      return; // the owner thread mounts it once the caller yields
    }
    if (!next.started) {
      next.started = true;
      next.thread.start();
    } else {
      LockSupport.unpark(next.thread);
    }
  }

  /**
   * Parks the calling worker until it holds the baton again.
   *
   * @throws Abandoned when the run was abandoned meanwhile
   */
  void await(Worker self) {
    while (holder != self) {
      if (abandoned) {
        throw new Abandoned();
      }
      pause(self);
    }
    if (abandoned) {
      throw new Abandoned();
    }
  }

  /** Parks a worker that has no core to carry; returns false when the run is over. */
  boolean awaitWork(Worker self) {
    while (holder != self) {
      if (abandoned || finished) {
        return false;
      }
      pause(self);
    }
    return !(abandoned || finished);
  }

  private void pause(Worker self) {
    if (self.continuation != null) {
      Continuations.yieldNow();
    } else {
      LockSupport.park(this);
    }
  }

  /**
   * Ends the run from the baton holder: wakes the owner thread, which then stops every worker.
   *
   * @param abandon whether parked carriers must unwind their calls (a failure or cancellation)
   */
  void finish(boolean abandon) {
    if (abandon) {
      abandoned = true;
    }
    finished = true;
    holder = null;
    if (!Continuations.AVAILABLE) {
      LockSupport.unpark(owner);
    }
  }

  /**
   * Called by the owner thread: hands the baton to {@code first}, waits for the run to finish, then
   * stops every worker one at a time (so that calls unwinding on abandoned carriers never overlap)
   * and waits for each thread to end.
   */
  void runAndJoin(Worker first) {
    if (first.continuation != null) {
      runContinuations(first);
    } else {
      runAndJoinWorkers(first);
    }
  }

  /**
   * The owner thread mounts whichever continuation holds the baton until the run finishes, then
   * resumes each one still suspended, one at a time, so that it unwinds (an abandoned run's parked
   * calls throw {@link Abandoned}; free workers end).
   */
  private void runContinuations(Worker first) {
    handTo(first);
    while (!finished) {
      Worker next = holder;
      next.started = true;
      Continuations.run(next.continuation);
    }
    abandoned = true;
    for (Worker worker : workers) {
      while (worker.started && !Continuations.isDone(worker.continuation)) {
        Continuations.run(worker.continuation);
      }
    }
  }

  private void runAndJoinWorkers(Worker first) {
    handTo(first);
    while (!finished) {
      LockSupport.park(this);
    }
    boolean interrupted = false;
    for (Worker worker : workers) {
      if (!worker.started) {
        continue;
      }
      LockSupport.unpark(worker.thread);
      while (true) {
        try {
          worker.thread.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread unstarted(Runnable body, String name) {
    if (VIRTUAL_UNSTARTED != null) {
      try {
        Thread thread = (Thread) VIRTUAL_UNSTARTED.invoke(body);
        thread.setName(name);
        return thread;
      } catch (Throwable e) {
        throw new IllegalStateException("cannot create a virtual thread", e);
      }
    }
    // Kernel calls nest a few dozen frames deep; 4 MiB leaves room for deep page-table recursion.
    Thread thread = new Thread(null, body, name, 4L << 20);
    thread.setDaemon(true);
    return thread;
  }

  /**
   * {@code Thread.ofVirtual()::unstarted} on JDK 21+, looked up reflectively (we compile for 17).
   */
  private static MethodHandle virtualThreadFactory() {
    if ("platform".equals(System.getProperty("mmuemu.threads"))) {
      return null;
    }
    try {
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
      Class<?> virtualBuilderClass = Class.forName("java.lang.Thread$Builder$OfVirtual");
      Object builder =
          lookup
              .findStatic(Thread.class, "ofVirtual", MethodType.methodType(virtualBuilderClass))
              .invoke();
      MethodHandle unstarted =
          lookup.findVirtual(
              builderClass, "unstarted", MethodType.methodType(Thread.class, Runnable.class));
      return unstarted.bindTo(builder);
    } catch (Throwable notAvailable) {
      return null; // Java 17-20: platform threads
    }
  }
}
