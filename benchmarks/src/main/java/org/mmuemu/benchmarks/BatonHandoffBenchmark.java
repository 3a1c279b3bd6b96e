package org.mmuemu.benchmarks;

import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one deterministic baton handoff between host threads, for choosing how kernel calls
 * will interleave (docs/time-model.md): one host thread per simulated CPU, exactly one of which
 * runs at a time; the scheduler decides who runs next and hands it the baton with {@link
 * LockSupport#unpark}, and the previous holder parks.
 *
 * <p>One invocation passes the baton from the benchmark thread through every simulated CPU in id
 * order and back: {@code cpus + 1} handoffs, which is what the score is per.
 *
 * <p>{@code threads=platform} uses platform threads (any JDK); {@code threads=virtual} uses virtual
 * threads on the JDK's shared scheduler, found by reflection so that the module still compiles for
 * Java 17; {@code threads=carried} uses virtual threads mounted on one carrier thread of their own,
 * as runs did before they used continuations; {@code threads=continuation} makes the simulated CPUs
 * the JDK's own continuations, mounted one at a time on the benchmark thread, as a run's workers
 * are on Java 21+ (a hand-over is one yield back to the benchmark thread and one resume of the
 * next). Run the last three on JDK 21 or newer with {@code -p threads=virtual,carried,continuation}
 * (on 17 they fail at set-up).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/jdk.internal.vm=ALL-UNNAMED"
    })
@State(Scope.Benchmark)
public class BatonHandoffBenchmark {
  private static final int CPUS = 8;

  @Param({"platform"})
  public String threads;

  private volatile int turn = -1;
  private volatile boolean stopping;
  private Thread[] cpus;
  private volatile Thread driver;
  private java.util.concurrent.ExecutorService carrier;
  // threads=continuation: the CPUs as continuations, and how to run one and to yield.
  private Object[] continuations;
  private java.lang.invoke.MethodHandle resume;
  private java.lang.invoke.MethodHandle yieldToDriver;

  @Setup(Level.Trial)
  public void startCpus() throws Throwable {
    if ("continuation".equals(threads)) {
      makeContinuations();
      return;
    }
    driver = Thread.currentThread();
    cpus = new Thread[CPUS];
    for (int id = 0; id < CPUS; id++) {
      int me = id;
      cpus[id] = newThread(() -> runCpu(me));
    }
    for (Thread cpu : cpus) {
      cpu.start();
    }
  }

  private Thread newThread(Runnable body) throws ReflectiveOperationException {
    if ("platform".equals(threads)) {
      Thread thread = new Thread(body, "sim-cpu");
      thread.setDaemon(true);
      return thread;
    }
    Object builder;
    if ("carried".equals(threads)) {
      if (carrier == null) {
        carrier = java.util.concurrent.Executors.newSingleThreadExecutor();
      }
      var constructor =
          Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
              .getDeclaredConstructor(java.util.concurrent.Executor.class);
      constructor.setAccessible(true);
      builder = constructor.newInstance(carrier);
    } else if ("virtual".equals(threads)) {
      builder = Thread.class.getMethod("ofVirtual").invoke(null);
    } else {
      throw new IllegalArgumentException(
          "threads: " + threads + " (expected: platform, virtual, carried or continuation)");
    }
    Method unstarted =
        Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class);
    return (Thread) unstarted.invoke(builder, body);
  }

  private void makeContinuations() throws Throwable {
    Class<?> scopeClass = Class.forName("jdk.internal.vm.ContinuationScope");
    Class<?> continuationClass = Class.forName("jdk.internal.vm.Continuation");
    var lookup =
        java.lang.invoke.MethodHandles.privateLookupIn(
            continuationClass, java.lang.invoke.MethodHandles.lookup());
    Object scope =
        lookup
            .findConstructor(
                scopeClass, java.lang.invoke.MethodType.methodType(void.class, String.class))
            .invoke("benchmark");
    var make =
        lookup.findConstructor(
            continuationClass,
            java.lang.invoke.MethodType.methodType(void.class, scopeClass, Runnable.class));
    resume =
        lookup.findVirtual(
            continuationClass, "run", java.lang.invoke.MethodType.methodType(void.class));
    yieldToDriver =
        lookup
            .findStatic(
                continuationClass,
                "yield",
                java.lang.invoke.MethodType.methodType(boolean.class, scopeClass))
            .bindTo(scope);
    continuations = new Object[CPUS];
    for (int id = 0; id < CPUS; id++) {
      continuations[id] = make.invoke(scope, (Runnable) this::runContinuationCpu);
    }
  }

  /** A simulated CPU as a continuation: each resume is one (empty) step, then back. */
  private void runContinuationCpu() {
    try {
      while (!stopping) {
        boolean yielded = (boolean) yieldToDriver.invoke();
        if (!yielded) {
          throw new IllegalStateException("pinned");
        }
      }
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  /** A simulated CPU: waits for the baton, does its (empty) step, hands the baton on. */
  private void runCpu(int id) {
    while (true) {
      while (turn != id) {
        if (stopping) {
          return;
        }
        LockSupport.park(this);
      }
      if (id + 1 < CPUS) {
        turn = id + 1;
        LockSupport.unpark(cpus[id + 1]);
      } else {
        turn = CPUS; // back to the scheduler
        LockSupport.unpark(driver);
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(CPUS + 1)
  public int roundOfHandoffs() throws Throwable {
    if (continuations != null) {
      // CPUS + 1 hand-overs, as below: every CPU once, then the first again
      for (int i = 0; i <= CPUS; i++) {
        resume.invoke(continuations[i % CPUS]);
      }
      return CPUS;
    }
    driver = Thread.currentThread();
    turn = 0;
    LockSupport.unpark(cpus[0]);
    while (turn != CPUS) {
      LockSupport.park(this);
    }
    return turn;
  }

  @TearDown(Level.Trial)
  public void stopCpus() throws Throwable {
    stopping = true;
    if (continuations != null) {
      for (Object continuation : continuations) {
        resume.invoke(continuation);
      }
      return;
    }
    for (Thread cpu : cpus) {
      LockSupport.unpark(cpu);
      cpu.join(1_000);
    }
    if (carrier != null) {
      carrier.shutdown();
    }
  }
}
