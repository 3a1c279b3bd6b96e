package org.mmuemu.app;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.mmuemu.app.trace.TraceFormat;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.run.RunObserver;

/**
 * A trace a run writes to an {@link OutputFile} ({@code --trace}), in either format, and how it
 * ends:
 *
 * <ul>
 *   <li>{@link #complete}: the run finished; the trace is ended and committed.
 *   <li>{@link #stop}: the run started but was interrupted (Ctrl-C, SIGTERM) or failed; the trace
 *       is ended with a last event saying so and at which simulated cycle, and committed, so it is
 *       whole and valid up to where the run stopped. The output is marked {@link
 *       OutputFile#finishOnInterrupt}, so the shutdown hook leaves it to this.
 *   <li>{@link #abandon}: nothing is kept (the run never started, so there is nothing to show and
 *       an existing file at the path is left as it was; or the trace cannot be written).
 * </ul>
 *
 * Only the first of these acts. Confined to the simulation thread.
 */
abstract class TraceFile {
  /** Why a run ended early: the trace's last event says which. */
  enum Stop {
    INTERRUPTED("interrupted"),
    FAILED("failed");

    final String word;

    Stop(String word) {
      this.word = word;
    }
  }

  private final OutputFile output;
  private final Path path;
  private Machine machine;
  private boolean finished;

  TraceFile(OutputFile output, Path path) {
    this.output = output;
    this.path = path;
    output.finishOnInterrupt();
  }

  /**
   * Opens the trace at {@code path} in {@code format}.
   *
   * @param pid the Chrome trace's process id (1 for a run; the column number in compare)
   * @param label the Chrome trace's process name (the machine or column label)
   * @param maxBytes the most bytes of events of a jsonl trace, or {@code Long.MAX_VALUE}
   */
  static TraceFile open(
      Path path,
      TraceFormat format,
      LoadedMachine machine,
      long kindMask,
      int pid,
      String label,
      long maxBytes)
      throws UserInputException {
    OutputFile output = RunExecutor.openOutput("--trace", path);
    List<String> levels = RunExecutor.levelNames(machine);
    return format == TraceFormat.chrome
        ? new ChromeTraceFile(
            output, path, pid, label, machine.spec().frequencyGHz(), kindMask, levels)
        : new JsonLinesTraceWriter(output, path, kindMask, maxBytes, levels);
  }

  /** Where the events go. */
  abstract TraceSink sink();

  /** Writes the end of a finished run's trace (flushed). */
  abstract void end();

  /** Writes the end of a run that stopped early at {@code cycle}, with why (flushed). */
  abstract void endStopped(Stop stop, long cycle, String error);

  /** Told when the machine is built (the default remembers it for the stop cycle). */
  void started(Machine builtMachine) {}

  /** The observer that tells this trace about the run's machine. */
  final RunObserver observer() {
    return new RunObserver() {
      @Override
      public void started(Machine builtMachine) {
        machine = builtMachine;
        TraceFile.this.started(builtMachine);
      }
    };
  }

  /** The path the user gave. */
  final Path path() {
    return path;
  }

  /** Ends the trace of a finished run and commits it. Does nothing once finished. */
  final void complete() throws OutputFileException {
    if (finished) {
      return;
    }
    finished = true;
    try {
      end();
    } catch (UncheckedIOException e) {
      throw output.failure(e.getCause());
    }
    output.commit();
  }

  /** What became of a trace whose run stopped early: kept ending at {@code cycle}, or not (-1). */
  record Stopped(Path path, Stop stop, long cycle) {
    boolean kept() {
      return cycle >= 0;
    }
  }

  /**
   * Ends the trace of a run that stopped early with a last event saying {@code stop} and the
   * simulated cycle, and commits it; a trace of a run that never started is abandoned.
   *
   * @param error the failure's message, or null
   * @return where the trace ends, or that nothing was kept (the run never started, or the trace
   *     could not be written)
   */
  final Stopped stop(Stop stop, String error) {
    if (finished || machine == null) {
      abandon();
      return new Stopped(path, stop, -1);
    }
    finished = true;
    long cycle = machine.clocks().max();
    try {
      endStopped(stop, cycle, error);
      output.commit();
      return new Stopped(path, stop, cycle);
    } catch (UncheckedIOException | OutputFileException e) {
      // The run's own stop is what the user hears about; the trace is not kept.
      output.abort();
      return new Stopped(path, stop, -1);
    }
  }

  /**
   * Ends {@code trace} (if any) after an unexpected failure (a bug, out of memory), keeping it as
   * far as it got when it can still be written; the failure itself is the caller's to throw.
   */
  static void stopUnexpected(TraceFile trace, Throwable failure) {
    if (trace != null) {
      trace.stop(Stop.FAILED, String.valueOf(failure));
    }
  }

  /**
   * One line on what of a stopped command's outputs was kept, such as {@code no result written;
   * trace kept: t.json (ends at cycle 123, marked interrupted)}.
   *
   * @param notWritten what the command did not write, first in the line
   */
  static String keptMessage(String notWritten, List<Stopped> traces) {
    List<String> kept = new ArrayList<>();
    List<String> dropped = new ArrayList<>();
    for (Stopped trace : traces) {
      if (trace.kept()) {
        kept.add(
            trace.path()
                + " (ends at cycle "
                + trace.cycle()
                + ", marked "
                + trace.stop().word
                + ")");
      } else {
        dropped.add(trace.path().toString());
      }
    }
    Collections.sort(kept);
    Collections.sort(dropped);
    StringBuilder line = new StringBuilder(notWritten);
    if (!kept.isEmpty()) {
      line.append("; trace kept: ").append(String.join(", ", kept));
    }
    if (!dropped.isEmpty()) {
      line.append("; no trace written: ").append(String.join(", ", dropped));
    }
    return line.toString();
  }

  /** Drops the trace. Does nothing once finished. */
  final void abandon() {
    if (!finished) {
      finished = true;
      output.abort();
    }
  }
}
