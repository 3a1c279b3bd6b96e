package org.mmuemu.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.core.trace.json.EventJson;

/**
 * Writes events as JSON lines ({@link EventJson}) to an {@link OutputFile}: a file is moved
 * into place only when the run finishes ({@link #commit}), so a failed run leaves nothing
 * behind; a device or FIFO is streamed to.
 *
 * <p>At most {@code maxBytes} of events are written: the run goes on, and the trace ends with
 * one marker line, {@code {"truncated":true,...}}, saying where it was cut. Confined to the
 * simulation thread.
 */
final class JsonLinesTraceWriter implements TraceSink {
  private final OutputFile output;
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
  JsonLinesTraceWriter(OutputFile output, long kindMask, long maxBytes, List<String> tlbLevelNames) {
    this.output = output;
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
        writer.append("{\"truncated\":true,\"reason\":\"--trace-max-bytes ").append(Long.toString(maxBytes))
            .append(" reached\",\"eventsWritten\":").append(Long.toString(events)).append("}\n");
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

  /** Flushes and moves the trace into place. */
  void commit() throws OutputFileException {
    output.commit();
  }

  /** Drops an unfinished trace (a no-op after {@link #commit}). */
  void abandon() {
    output.abort();
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
