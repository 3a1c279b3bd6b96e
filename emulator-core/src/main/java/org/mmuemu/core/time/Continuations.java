package org.mmuemu.core.time;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The JDK's own one-shot continuations ({@code jdk.internal.vm.Continuation}, Java 21+), the
 * mechanism under virtual threads, used bare: a run's workers become continuations that the run's
 * own thread mounts one at a time, and a hand-over is one yield and one resume on that thread, with
 * none of a virtual thread's parking, state changes and executor submission around them.
 *
 * <p>Reachable only where {@code jdk.internal.vm} is opened to us (the jar's manifest and the test
 * JVMs open it); {@link #AVAILABLE} is false otherwise, on Java 17-20, and when {@code
 * -Dmmuemu.threads} asks for threads ({@code platform}, or {@code virtual} for virtual threads).
 *
 * <p>A continuation cannot yield while a {@code synchronized} block or a native frame is on its
 * stack (it is pinned); simulation code yields only at interleaving points and waits, where neither
 * is, and a pinned yield fails loudly rather than blocking.
 */
final class Continuations {
  private static final Object SCOPE;
  private static final MethodHandle NEW; // (Runnable) -> Object
  private static final MethodHandle RUN; // (Object) -> void
  private static final MethodHandle IS_DONE; // (Object) -> boolean
  private static final MethodHandle YIELD; // () -> boolean

  /** Whether continuations can be used in this JVM. */
  static final boolean AVAILABLE;

  static {
    Object scope = null;
    MethodHandle make = null;
    MethodHandle run = null;
    MethodHandle isDone = null;
    MethodHandle yield = null;
    String threads = System.getProperty("mmuemu.threads", "");
    // 19 and 20 have the class, but run continuations only with --enable-preview
    if (Runtime.version().feature() >= 21
        && (threads.isEmpty() || threads.equals("continuation"))) {
      try {
        Class<?> scopeClass = Class.forName("jdk.internal.vm.ContinuationScope");
        Class<?> continuationClass = Class.forName("jdk.internal.vm.Continuation");
        MethodHandles.Lookup lookup =
            MethodHandles.privateLookupIn(continuationClass, MethodHandles.lookup());
        scope =
            lookup
                .findConstructor(scopeClass, MethodType.methodType(void.class, String.class))
                .invoke("mmuemu");
        make =
            MethodHandles.insertArguments(
                    lookup.findConstructor(
                        continuationClass,
                        MethodType.methodType(void.class, scopeClass, Runnable.class)),
                    0,
                    scope)
                .asType(MethodType.methodType(Object.class, Runnable.class));
        run =
            lookup
                .findVirtual(continuationClass, "run", MethodType.methodType(void.class))
                .asType(MethodType.methodType(void.class, Object.class));
        isDone =
            lookup
                .findVirtual(continuationClass, "isDone", MethodType.methodType(boolean.class))
                .asType(MethodType.methodType(boolean.class, Object.class));
        yield =
            MethodHandles.insertArguments(
                lookup.findStatic(
                    continuationClass, "yield", MethodType.methodType(boolean.class, scopeClass)),
                0,
                scope);
      } catch (Throwable notAvailable) {
        make = null; // Java 17-20, or jdk.internal.vm not opened to us
      }
    }
    SCOPE = scope;
    NEW = make;
    RUN = run;
    IS_DONE = isDone;
    YIELD = yield;
    AVAILABLE = make != null;
  }

  private Continuations() {}

  /** A continuation that runs {@code body} when first {@linkplain #run run}. */
  static Object create(Runnable body) {
    try {
      return (Object) NEW.invokeExact(body);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot create a continuation", e);
    }
  }

  /** Mounts {@code continuation} on this thread until it yields or its body ends. */
  static void run(Object continuation) {
    try {
      RUN.invokeExact(continuation);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether the body of {@code continuation} has ended. */
  static boolean isDone(Object continuation) {
    try {
      return (boolean) IS_DONE.invokeExact(continuation);
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  /** Suspends the continuation running on this thread; returns when it is run again. */
  static void yieldNow() {
    boolean yielded;
    try {
      yielded = (boolean) YIELD.invokeExact();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
    if (!yielded) {
      throw new IllegalStateException("a worker could not yield (pinned by " + SCOPE + ")");
    }
  }
}
