package org.mmuemu.app;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.IntFunction;
import org.mmuemu.app.trace.ChromeTraceWriter;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.run.RunObserver;

/**
 * A Chrome trace being written to a file: the {@link ChromeTraceWriter} streams into a temporary
 * file beside the target, which {@link #complete} ends (closing open slices and the JSON) and
 * moves into place, whether the run finished or stopped early, so the file at the target is
 * always whole and valid. The TLB counters read occupancy from the machine once it is built
 * ({@link #observer}). Confined to the simulation thread.
 */
final class ChromeTraceFile {
  /** Counters are written per core once per this many simulated cycles. */
  static final long COUNTER_INTERVAL_CYCLES = 10_000;

  /**
   * Operation names for {@code kernel.call} events: the kernel's ids, resolved by name once
   * kernel-mm publishes them (KernelOperationNames::nameOf).
   */
  static final IntFunction<String> KERNEL_OPERATION_NAMES = id -> null;

  private final Path target;
  private final Path temporary;
  private final BufferedWriter out;
  private final ChromeTraceWriter writer;
  private boolean completed;

  ChromeTraceFile(Path target, int pid, String processName, double frequencyGHz, long kindMask,
      List<String> tlbLevelNames) throws IOException {
    this.target = target.toAbsolutePath();
    this.temporary = Files.createTempFile(this.target.getParent(), "." + this.target.getFileName(), ".tmp");
    this.out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8);
    this.writer = new ChromeTraceWriter(out, pid, processName, frequencyGHz, kindMask, tlbLevelNames,
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

  /** Ends the trace and moves it into place. Idempotent. */
  void complete() throws IOException {
    if (completed) {
      return;
    }
    completed = true;
    try {
      writer.finish();
      out.close();
      Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UncheckedIOException e) {
      Files.deleteIfExists(temporary);
      throw e instanceof UncheckedIOException unchecked ? unchecked.getCause() : (IOException) e;
    }
  }
}
