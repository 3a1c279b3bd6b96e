package org.mmuemu.app;

import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;
import org.mmuemu.app.trace.ChromeTraceWriter;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.trace.NameTable;

/**
 * A Chrome trace being written to an {@link OutputFile} (opened like every output, before the run).
 * It ends like every {@link TraceFile}: whole on success; with a global instant event ({@code run
 * interrupted} or {@code run failed}, with the simulated cycle) after open slices are closed when
 * the run stops early, so the JSON stays valid. The TLB counters read occupancy from the machine
 * once it is built. Confined to the simulation thread.
 */
final class ChromeTraceFile extends TraceFile {
  /** Counters are written per core once per this many simulated cycles. */
  static final long COUNTER_INTERVAL_CYCLES = 10_000;

  /** Operation names for {@code kernel.call} events: the kernel's ids, by name. */
  static final IntFunction<String> KERNEL_OPERATION_NAMES = NameTable.KERNEL_OPERATIONS::nameOf;

  private final ChromeTraceWriter writer;

  /**
   * @param output where the trace goes; this object commits or aborts it
   * @param pid the trace's process id (1 for a run; the column number in {@code compare})
   */
  ChromeTraceFile(
      OutputFile output,
      Path path,
      int pid,
      String processName,
      double frequencyGHz,
      long kindMask,
      List<String> tlbLevelNames) {
    super(output, path);
    this.writer =
        new ChromeTraceWriter(
            output.writer(),
            pid,
            processName,
            frequencyGHz,
            kindMask,
            tlbLevelNames,
            KERNEL_OPERATION_NAMES,
            COUNTER_INTERVAL_CYCLES);
  }

  @Override
  ChromeTraceWriter sink() {
    return writer;
  }

  @Override
  void started(Machine machine) {
    writer.readOccupancyFrom((core, level) -> machine.core(core).tlbLevels()[level].occupancy());
  }

  @Override
  void end() {
    writer.finish();
  }

  @Override
  void endStopped(Stop stop, long cycle, String error) {
    writer.finishStopped("run " + stop.word, cycle, error);
  }
}
