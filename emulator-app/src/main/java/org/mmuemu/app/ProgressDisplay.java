package org.mmuemu.app;

import java.io.Console;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.run.RunObserver;

/**
 * A progress bar on stderr for long runs (me.tongfei progressbar): a single run shows the simulated
 * cycles done and their rate (a run's length is not known ahead, so there is no ETA); {@code
 * compare} and {@code sweep} show the columns or runs done with an ETA, and each running column's
 * simulated cycles.
 *
 * <p>It reads the cycles through a {@link RunObserver} at the run's cancellation polls, which only
 * read the machine's clocks, so a run is byte-identical with or without the bar. Observers may be
 * called from several simulation threads; the bar is thread-safe.
 */
final class ProgressDisplay implements AutoCloseable {
  private static final long MEGA = 1_000_000;

  private final ProgressBar bar;
  private final List<String> labels;
  private final AtomicLongArray cycles;

  private ProgressDisplay(ProgressBar bar, List<String> labels) {
    this.bar = bar;
    this.labels = List.copyOf(labels);
    this.cycles = new AtomicLongArray(Math.max(1, labels.size()));
  }

  /**
   * Whether to show a bar: not with {@code --quiet}, not when the JVM has no interactive console
   * (output redirected), not in CI ({@code CI} set) and not on a dumb terminal.
   */
  static boolean wanted(
      boolean quiet, boolean interactiveConsole, Map<String, String> environment) {
    return !quiet
        && interactiveConsole
        && !environment.containsKey("CI")
        && !"dumb".equals(environment.get("TERM"));
  }

  static boolean wanted(boolean quiet) {
    return wanted(quiet, interactiveConsole(), System.getenv());
  }

  /**
   * Whether the JVM talks to a terminal. Before Java 22 {@link System#console()} is null unless it
   * does; from Java 22 it may return a console for redirected output too, and {@code
   * Console.isTerminal()} (called reflectively: the build targets Java 17) tells.
   */
  static boolean interactiveConsole() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** A bar of simulated cycles for one run; null consumer means the terminal's stderr. */
  static ProgressDisplay forRun(String taskName, ProgressBarConsumer consumer) {
    ProgressBarBuilder builder =
        new ProgressBarBuilder()
            .setTaskName(taskName)
            .setInitialMax(-1)
            .setUnit(" M cycles", 1)
            .showSpeed()
            .setSpeedUnit(ChronoUnit.SECONDS)
            .setUpdateIntervalMillis(250)
            .clearDisplayOnFinish();
    if (consumer != null) {
      builder.setConsumer(consumer);
    }
    return new ProgressDisplay(builder.build(), List.of());
  }

  /** A bar of finished columns or runs, with each running one's simulated cycles. */
  static ProgressDisplay forBatch(
      String taskName, List<String> labels, ProgressBarConsumer consumer) {
    ProgressBarBuilder builder =
        new ProgressBarBuilder()
            .setTaskName(taskName)
            .setInitialMax(labels.size())
            .setUpdateIntervalMillis(250)
            .clearDisplayOnFinish();
    if (consumer != null) {
      builder.setConsumer(consumer);
    }
    return new ProgressDisplay(builder.build(), labels);
  }

  /** The observer of a single run. */
  RunObserver runObserver() {
    return new RunObserver() {
      @Override
      public void polled(Machine machine) {
        bar.stepTo(machine.clocks().max() / MEGA);
      }
    };
  }

  /** The observer of column or run {@code index} of a batch. */
  RunObserver batchObserver(int index) {
    return new RunObserver() {
      @Override
      public void polled(Machine machine) {
        cycles.set(index, machine.clocks().max());
        bar.setExtraMessage(extraMessage());
      }
    };
  }

  /** Column or run {@code index} of a batch has finished. */
  void finished(int index) {
    cycles.set(index, -1);
    bar.step();
    bar.setExtraMessage(extraMessage());
  }

  private String extraMessage() {
    List<String> running = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      long value = cycles.get(i);
      if (value > 0) {
        running.add(
            String.format(Locale.ROOT, "%s %.1fM cycles", labels.get(i), value / (double) MEGA));
      }
    }
    return String.join(", ", running);
  }

  @Override
  public void close() {
    bar.close();
  }
}
