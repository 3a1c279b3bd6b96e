package org.mmuemu.app;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.kernel.trace.LackeyTraceReader;
import org.mmuemu.kernel.workload.ReplayWorkload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mmuemu replay}: a recorded memory trace through a machine. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Replay a recorded memory trace on core 0 of a machine, in one process whose memory is "
          + "demand-paged.",
      "Record one with: valgrind --tool=lackey --trace-mem=yes --log-file=trace.txt ./program"
    },
    footer = {
      "",
      "Example:",
      "  mmuemu replay --machine x86-skylake --trace-file trace.txt --out result.json"
    })
final class ReplayCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--trace-file",
      required = true,
      paramLabel = "<file>",
      description = "The trace to replay.")
  Path traceFile;

  @Option(
      names = "--trace-file-format",
      paramLabel = "<format>",
      defaultValue = "lackey",
      description = "The trace format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  TraceFileFormat format;

  @Option(
      names = "--lenient",
      description =
          "Skip malformed and overlong lines and count them, instead of stopping at the first.")
  boolean lenient;

  @Option(
      names = "--max-line-bytes",
      paramLabel = "N",
      defaultValue = "" + LackeyTraceReader.DEFAULT_MAX_LINE_BYTES,
      description =
          "The longest trace line accepted; a longer one stops the replay with its line number (or is "
              + "skipped with --lenient), and is never held in memory whole (default: ${DEFAULT-VALUE}).")
  int maxLineBytes;

  @Mixin RunOptions options;

  /** Trace formats replay reads. */
  enum TraceFileFormat {
    lackey
  }

  @Override
  public Integer call() throws Exception {
    if (maxLineBytes < 64 || maxLineBytes > (1 << 24)) {
      throw new UserInputException(
          "--max-line-bytes: " + maxLineBytes + " (expected: 64 to " + (1 << 24) + ")");
    }
    return new RunExecutor(spec.commandLine().getOut(), spec.commandLine().getErr(), options)
        .execute(new ReplayWorkload(traceFile, lenient, maxLineBytes), Map.of());
  }
}
