package org.mmuemu.app;

import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.IntFunction;
import org.mmuemu.app.trace.ChromeTraceWriter;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.trace.KernelOperationNames;
import org.mmuemu.kernel.run.RunObserver;

/**
 * A Chrome trace being written to an {@link OutputFile} (opened like every output, before the
 * run): {@link #complete} ends the JSON (closing open slices) and commits the file, also after a
 * run that failed, so the trace is whole and valid up to where the run stopped; {@link #abandon}
 * drops it (Ctrl-C, where nothing half-done is kept). The TLB counters read occupancy from the
 * machine once it is built ({@link #observer}). Confined to the simulation thread.
 */
final class ChromeTraceFile {
  /** Counters are written per core once per this many simulated cycles. */
  static final long COUNTER_INTERVAL_CYCLES = 10_000;

  /** Operation names for {@code kernel.call} events: the kernel's ids, by name. */
  static final IntFunction<String> KERNEL_OPERATION_NAMES = KernelOperationNames::nameOf;

  private final OutputFile output;
  private final ChromeTraceWriter writer;
  private boolean finished;

  /**
   * @param output where the trace goes; this object commits or aborts it
   * @param pid the trace's process id (1 for a run; the column number in {@code compare})
   */
  ChromeTraceFile(OutputFile output, int pid, String processName, double frequencyGHz, long kindMask,
      List<String> tlbLevelNames) {
    this.output = output;
    this.writer = new ChromeTraceWriter(output.writer(), pid, processName, frequencyGHz, kindMask, tlbLevelNames,
        KERNEL_OPERATION_NAMES, COUNTER_INTERVAL_CYCLES);
  }

  ChromeTraceWriter sink() {
    return writer;
  }

  /** Lets the counters read TLB occupancy from the machine the run builds. */
  RunObserver observer() {
    return new RunObserver() {
      @Override
      public void started(Machine machine) {
        writer.readOccupancyFrom((core, level) -> machine.core(core).tlbLevels()[level].occupancy());
      }
    };
  }

  /** Ends the trace and commits it. Does nothing once finished. */
  void complete() throws OutputFileException {
    if (finished) {
      return;
    }
    finished = true;
    try {
      writer.finish();
    } catch (UncheckedIOException e) {
      throw output.failure(e.getCause());
    }
    output.commit();
  }

  /** Drops the trace. Does nothing once finished. */
  void abandon() {
    if (!finished) {
      finished = true;
      output.abort();
    }
  }
}
