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
 * as a run does when {@code java.lang} is opened to it. Run the last two on JDK 21 or newer with
 * {@code -p threads=virtual,carried} (on 17 they fail at set-up).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-opens=java.base/java.lang=ALL-UNNAMED")
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

  @Setup(Level.Trial)
  public void startCpus() throws ReflectiveOperationException {
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
          "threads: " + threads + " (expected: platform, virtual or carried)");
    }
    Method unstarted =
        Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class);
    return (Thread) unstarted.invoke(builder, body);
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
  public int roundOfHandoffs() {
    driver = Thread.currentThread();
    turn = 0;
    LockSupport.unpark(cpus[0]);
    while (turn != CPUS) {
      LockSupport.park(this);
    }
    return turn;
  }

  @TearDown(Level.Trial)
  public void stopCpus() throws InterruptedException {
    stopping = true;
    for (Thread cpu : cpus) {
      LockSupport.unpark(cpu);
      cpu.join(1_000);
    }
    if (carrier != null) {
      carrier.shutdown();
    }
  }
}
