package org.mmuemu.app;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.mmuemu.kernel.run.RunObserver;

/**
 * Runs independent simulations on a bounded pool of host threads and returns their results in task
 * order, so the output never depends on the pool size or on which run finishes first: each run is
 * deterministic on its own and shares nothing with the others.
 *
 * <p>The columns of {@code compare} and the runs of {@code sweep run --all} go through here.
 */
public final class ParallelRuns {
  private ParallelRuns() {}

  /** One run of a batch, told when to stop and whom to tell its progress. */
  @FunctionalInterface
  interface ObservedRun<T> {
    T run(BooleanSupplier cancelled, RunObserver observer) throws Exception;
  }

  /**
   * Runs a batch like {@link #runAll}, with a progress bar of runs done (when {@code showProgress})
   * and Ctrl-C turned into the runs' cancellation.
   *
   * @param labels a label per run, for the progress bar
   * @param onInterrupted says what is left after Ctrl-C stopped the batch: run after the runs' own
   *     clean-up and before the hook lets the JVM exit (after it, a line could be lost)
   * @throws java.util.concurrent.CancellationException when Ctrl-C stopped the batch, after {@code
   *     onInterrupted}
   */
  static <T> List<T> runObserved(
      String taskName,
      List<String> labels,
      List<ObservedRun<T>> runs,
      int jobs,
      boolean showProgress,
      Runnable onInterrupted)
      throws Exception {
    Interruption interruption = Interruption.install();
    ProgressDisplay progress =
        showProgress ? ProgressDisplay.forBatch(taskName, labels, null) : null;
    try {
      List<Callable<T>> tasks = new ArrayList<>();
      for (int i = 0; i < runs.size(); i++) {
        ObservedRun<T> run = runs.get(i);
        int index = i;
        tasks.add(
            () -> {
              T result =
                  run.run(
                      interruption::requested,
                      progress == null ? RunObserver.NONE : progress.batchObserver(index));
              if (progress != null) {
                progress.finished(index);
              }
              return result;
            });
      }
      try {
        return runAll(tasks, jobs);
      } finally {
        if (progress != null) {
          progress.close();
        }
      }
    } catch (CancellationException e) {
      onInterrupted.run();
      throw e;
    } finally {
      interruption.close();
    }
  }

  /**
   * Runs every task, at most {@code jobs} at a time, and returns their results in task order. When
   * tasks fail, the failure of the first failing task (in task order) is thrown, after every
   * started task has ended.
   *
   * @param jobs at least 1
   * @throws Exception the first failing task's exception, unwrapped
   */
  public static <T> List<T> runAll(List<? extends Callable<T>> tasks, int jobs) throws Exception {
    if (jobs < 1) {
      throw new IllegalArgumentException("jobs: " + jobs + " (expected: >= 1)");
    }
    if (jobs == 1 || tasks.size() <= 1) {
      List<T> results = new ArrayList<>(tasks.size());
      for (Callable<T> task : tasks) {
        results.add(task.call());
      }
      return results;
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.min(jobs, tasks.size()),
            runnable -> {
              Thread thread = new Thread(runnable, "mmuemu-run");
              thread.setDaemon(true);
              return thread;
            });
    try {
      List<Future<T>> futures = new ArrayList<>(tasks.size());
      for (Callable<T> task : tasks) {
        futures.add(pool.submit(task));
      }
      List<T> results = new ArrayList<>(tasks.size());
      Exception first = null;
      for (Future<T> future : futures) {
        try {
          results.add(future.get());
        } catch (ExecutionException e) {
          if (first == null) {
            first =
                e.getCause() instanceof Exception cause
                    ? cause
                    : new RuntimeException(e.getCause());
          }
          results.add(null);
        }
      }
      if (first != null) {
        throw first;
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
