package org.mmuemu.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import org.mmuemu.app.trace.JsonStrings;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.core.trace.json.EventJson;

/**
 * Writes events as JSON lines ({@link EventJson}) to an {@link OutputFile}: a file is moved into
 * place when the run ends (see {@link TraceFile}); a device or FIFO is streamed to.
 *
 * <p>At most {@code maxBytes} of events are written: the run goes on, and the trace ends with one
 * marker line, {@code {"truncated":true,...}}, saying where it was cut. A run that stops early
 * (interrupted, failed) ends its trace with one marker line {@code
 * {"stopped":"interrupted"|"failed","cycle":N,"eventsWritten":M[,"error":"..."]}}. Confined to the
 * simulation thread.
 */
final class JsonLinesTraceWriter extends TraceFile implements TraceSink {
  private final Writer writer;
  private final long kindMask;
  private final long maxBytes;
  private final List<String> tlbLevelNames;
  private final StringBuilder line = new StringBuilder(160);
  private long events;
  private long eventsNotWritten;
  private long bytesWritten;

  /**
   * @param output where the lines go; this writer commits or aborts it
   * @param maxBytes the most bytes of events to write, or {@code Long.MAX_VALUE}
   */
  JsonLinesTraceWriter(
      OutputFile output, Path path, long kindMask, long maxBytes, List<String> tlbLevelNames) {
    super(output, path);
    this.writer = output.writer();
    this.kindMask = kindMask;
    this.maxBytes = maxBytes;
    this.tlbLevelNames = List.copyOf(tlbLevelNames);
  }

  @Override
  public long kindMask() {
    return kindMask;
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    if (eventsNotWritten > 0) {
      eventsNotWritten++;
      return;
    }
    line.setLength(0);
    EventJson.append(line, kind, core, cycle, a, b, c, tlbLevelNames);
    line.append('\n');
    long lineBytes = utf8Length(line);
    try {
      if (bytesWritten + lineBytes > maxBytes) {
        eventsNotWritten = 1;
        writer
            .append("{\"truncated\":true,\"reason\":\"--trace-max-bytes ")
            .append(Long.toString(maxBytes))
            .append(" reached\",\"eventsWritten\":")
            .append(Long.toString(events))
            .append("}\n");
        return;
      }
      writer.append(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    bytesWritten += lineBytes;
    events++;
  }

  /** Events written. */
  long events() {
    return events;
  }

  /** Events left out because the trace reached its size limit (0 when it was not cut). */
  long eventsNotWritten() {
    return eventsNotWritten;
  }

  @Override
  TraceSink sink() {
    return this;
  }

  @Override
  void end() {
    // Every line is whole as written; the commit flushes them.
  }

  @Override
  void endStopped(Stop stop, long cycle, String error) {
    line.setLength(0);
    line.append("{\"stopped\":\"")
        .append(stop.word)
        .append("\",\"cycle\":")
        .append(cycle)
        .append(",\"eventsWritten\":")
        .append(events);
    if (error != null) {
      line.append(",\"error\":");
      JsonStrings.append(line, error);
    }
    line.append("}\n");
    try {
      writer.append(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long utf8Length(CharSequence text) {
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      bytes += ch < 0x80 ? 1 : ch < 0x800 || Character.isSurrogate(ch) ? 2 : 3;
    }
    return bytes;
  }
}
