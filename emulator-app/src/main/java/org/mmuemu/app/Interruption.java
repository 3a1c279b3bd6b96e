package org.mmuemu.app;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C during a command that runs simulations: a shutdown hook asks the runs to stop (they poll
 * {@link #requested} with their cancellation check), then holds the JVM's exit until the command
 * has cleaned up ({@link #close}): unfinished results and JSON-lines traces removed, Chrome traces
 * ended so they stay valid, and a line on stderr saying so. Without it the JVM would exit
 * mid-write.
 *
 * <p>Use in try-with-resources around the runs. Thread-safe.
 */
final class Interruption implements AutoCloseable {
  /** How long an interrupted command gets to clean up before the JVM exits anyway. */
  private static final long CLEANUP_SECONDS = 10;

  private final AtomicBoolean requested = new AtomicBoolean();
  private final CountDownLatch cleanedUp = new CountDownLatch(1);
  private final Thread hook;

  private Interruption() {
    hook =
        new Thread(
            () -> {
              requested.set(true);
              try {
                cleanedUp.await(CLEANUP_SECONDS, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "mmuemu-interrupt");
  }

  /** Installs the hook until {@link #close}. */
  static Interruption install() {
    Interruption interruption = new Interruption();
    Runtime.getRuntime().addShutdownHook(interruption.hook);
    return interruption;
  }

  /** Whether the user asked to stop (the runs' cancellation check). */
  boolean requested() {
    return requested.get();
  }

  /** The command has cleaned up: an exit in progress may go on; the hook is removed otherwise. */
  @Override
  public void close() {
    cleanedUp.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down (Ctrl-C): the hook is running and now returns.
    }
  }
}
