package org.mmuemu.app;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.app.trace.TraceFormat;
import picocli.CommandLine.Option;

/**
 * The trace options run, replay and compare share, declared once as picocli mixins: the trace's
 * format and the event kinds. Two mixins, so that run lists {@code --trace-max-bytes} (its own)
 * between them. Where the trace goes ({@code --trace}) is each command's own (compare writes a file
 * per column).
 */
final class TraceOptions {
  private TraceOptions() {}

  /** {@code --trace-format}. */
  static final class Format {
    @Option(
        names = "--trace-format",
        paramLabel = "jsonl|chrome",
        defaultValue = "jsonl",
        description =
            "The trace's form: jsonl (one event per line, as the control port streams them) or chrome "
                + "(trace-event JSON for Perfetto UI). Either ends with a marker when the run stops early (an error, "
                + "Ctrl-C). Default: ${DEFAULT-VALUE}.")
    TraceFormat traceFormat = TraceFormat.jsonl;
  }

  /** {@code --trace-events}. */
  static final class Events {
    @Option(
        names = "--trace-events",
        paramLabel = "<kinds>",
        split = ",",
        description =
            "Event kinds to trace, comma-separated, or 'all' (default: every kind but tlb.hit, tlb.fill, "
                + "frame.alloc and frame.free; see 'mmuemu list events').")
    List<String> traceEvents = new ArrayList<>();
  }
}
