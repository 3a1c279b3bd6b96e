package org.mmuemu.core.time;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;

/**
 * The host threads of one run and the baton that lets exactly one of them run simulation code at a
 * time. A kernel call that reaches an interleaving point while another core is earlier keeps its
 * Java stack on its thread (which parks) and hands the baton on; whoever holds the baton next runs
 * the scheduler. Only the baton holder touches simulation state, and it publishes every write by
 * the volatile baton hand-over, so the simulation stays single-threaded in effect and
 * deterministic: which host thread carries which core never changes a result.
 *
 * <p>Threads are virtual where the JDK has them (21+) and platform threads otherwise (Java 17);
 * {@code -Dmmuemu.threads=platform} forces platform threads. Where the JVM lets us (the jar's
 * manifest and the test JVMs open {@code java.lang} to us), a run's virtual threads share one
 * carrier thread of their own, so a hand-over is a continuation switch on that carrier rather than
 * a wake-up of another host CPU; otherwise they use the JDK's shared scheduler. docs/time-model.md
 * has the measured hand-over costs of all three.
 *
 * <p>This and {@link CarrierThread} are the classes of emulator-core allowed to use {@code
 * java.util.concurrent} (the architecture test names them).
 */
final class Baton {
  private static final MethodHandle VIRTUAL_UNSTARTED = virtualThreadFactory();
  private static final Constructor<?> VIRTUAL_BUILDER_ON_EXECUTOR = virtualBuilderOnExecutor();
  private static final MethodHandle BUILDER_UNSTARTED = builderUnstarted();

  /** Thrown on a parked carrier thread to unwind its kernel call when the run is abandoned. */
  static final class Abandoned extends Error {
    private static final long serialVersionUID = 1L;

    Abandoned() {
      super("run abandoned", null, false, false);
    }
  }

  /** One host thread of the run. */
  static final class Worker {
    private final Thread thread;
    private boolean started;

    private Worker(Thread thread) {
      this.thread = thread;
    }
  }

  private final List<Worker> workers = new ArrayList<>();
  private final Thread owner = Thread.currentThread();
  private volatile Worker holder;
  private volatile boolean abandoned;
  private volatile boolean finished;
  // The run's own carrier thread and a builder of virtual threads mounted on it (null: none).
  private CarrierThread carrierThread;
  private Object carriedBuilder;

  /** Creates a thread that will run {@code body} once it first receives the baton. */
  Worker newWorker(Runnable body, String name) {
    Thread thread = carriedBuilder() != null ? carried(body, name) : unstarted(body, name);
    Worker worker = new Worker(thread);
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
      LockSupport.park(this);
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
      LockSupport.park(this);
    }
    return !(abandoned || finished);
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
    LockSupport.unpark(owner);
  }

  /**
   * Called by the owner thread: hands the baton to {@code first}, waits for the run to finish, then
   * stops every worker one at a time (so that calls unwinding on abandoned carriers never overlap)
   * and waits for each thread to end.
   */
  void runAndJoin(Worker first) {
    try {
      runAndJoinWorkers(first);
    } finally {
      if (carrierThread != null) {
        carrierThread.shutdown();
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

  /**
   * The builder of this run's carried virtual threads, made on first use; null when unavailable.
   */
  private Object carriedBuilder() {
    if (carriedBuilder == null && BUILDER_UNSTARTED != null && carrierThread == null) {
      CarrierThread executor = new CarrierThread();
      try {
        carriedBuilder = VIRTUAL_BUILDER_ON_EXECUTOR.newInstance((Executor) executor);
        carrierThread = executor;
      } catch (ReflectiveOperationException | RuntimeException refused) {
        executor.shutdown();
      }
    }
    return carriedBuilder;
  }

  private Thread carried(Runnable body, String name) {
    try {
      Thread thread = (Thread) BUILDER_UNSTARTED.invoke(carriedBuilder, body);
      thread.setName(name);
      return thread;
    } catch (Throwable e) {
      throw new IllegalStateException("cannot create a virtual thread", e);
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

  /**
   * The JDK's package-private {@code VirtualThreadBuilder(Executor)} (21+), which mounts virtual
   * threads on a carrier of our choosing; null on Java 17-20, with platform threads forced, or when
   * {@code java.lang} is not opened to us ({@code --add-opens java.base/java.lang=ALL-UNNAMED}).
   */
  private static Constructor<?> virtualBuilderOnExecutor() {
    if (VIRTUAL_UNSTARTED == null || "shared".equals(System.getProperty("mmuemu.carrier"))) {
      return null;
    }
    try {
      Constructor<?> constructor =
          Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
              .getDeclaredConstructor(Executor.class);
      constructor.setAccessible(true);
      return constructor;
    } catch (ReflectiveOperationException | RuntimeException notOpened) {
      return null;
    }
  }

  private static MethodHandle builderUnstarted() {
    if (VIRTUAL_BUILDER_ON_EXECUTOR == null) {
      return null;
    }
    try {
      Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
      return MethodHandles.publicLookup()
          .findVirtual(
              builderClass, "unstarted", MethodType.methodType(Thread.class, Runnable.class));
    } catch (ReflectiveOperationException notAvailable) {
      return null;
    }
  }
}
