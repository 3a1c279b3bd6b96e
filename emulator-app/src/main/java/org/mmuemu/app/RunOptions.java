package org.mmuemu.app;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every command that runs a simulation shares. */
final class RunOptions {
  @Option(
      names = "--machine",
      required = true,
      paramLabel = "<name|file>",
      description = "A built-in machine (see 'mmuemu list machines') or a machine config file.")
  String machine;

  @Option(
      names = "--set",
      paramLabel = "/pointer=value",
      description =
          "Override one config value: a JSON pointer, '=', and a value parsed as JSON, else taken as a "
              + "string (for example --set /cores=2 --set /tlb/levels/2/ways=10). Repeatable.")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "The run's seed; the same config, workload, parameters and seed give the same result "
              + "(default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--out",
      paramLabel = "<file>",
      description =
          "Write the result JSON to this file (a file atomically: a temporary file beside it, then a "
              + "rename; a device or FIFO is written in place). Checked before the run.")
  Path out;

  @Option(
      names = "--json",
      description = "Write the result JSON to standard output (the summary goes to stderr).")
  boolean json;

  @Option(
      names = {"-q", "--quiet"},
      description = "Print no summary.")
  boolean quiet;

  @Option(
      names = "--trace",
      paramLabel = "<file>",
      description =
          "Write the run's events to this file (see --trace-format; moved into place when the run ends; "
              + "a device or FIFO is written as the run goes).")
  Path trace;

  @Mixin TraceOptions.Format traceFormat;

  @Option(
      names = "--trace-max-bytes",
      paramLabel = "<size>",
      description =
          "Cut a jsonl trace after this many bytes (for example 100MiB): the run goes on and the trace "
              + "ends with a line {\"truncated\":true,...}.")
  String traceMaxBytes;

  @Mixin TraceOptions.Events traceEvents;
}
