package org.mmuemu.app;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.core.trace.json.EventJson;

/**
 * Writes events as JSON lines ({@link EventJson}) to a temporary file beside the target, moved
 * into place only when the run finishes ({@link #commit}); a failed run leaves nothing behind.
 * Confined to the simulation thread.
 */
final class JsonLinesTraceWriter implements TraceSink {
  private final Path target;
  private final Path temporary;
  private final BufferedWriter writer;
  private final long kindMask;
  private final List<String> tlbLevelNames;
  private final StringBuilder line = new StringBuilder(160);
  private long events;

  JsonLinesTraceWriter(Path target, long kindMask, List<String> tlbLevelNames) throws IOException {
    this.target = target.toAbsolutePath();
    this.temporary = Files.createTempFile(this.target.getParent(), "." + this.target.getFileName(), ".tmp");
    this.writer = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8);
    this.kindMask = kindMask;
    this.tlbLevelNames = List.copyOf(tlbLevelNames);
  }

  @Override
  public long kindMask() {
    return kindMask;
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    line.setLength(0);
    EventJson.append(line, kind, core, cycle, a, b, c, tlbLevelNames);
    line.append('\n');
    try {
      writer.append(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    events++;
  }

  long events() {
    return events;
  }

  /** Flushes and moves the trace into place. */
  void commit() throws IOException {
    writer.close();
    Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Drops the unfinished trace. */
  void abandon() {
    try {
      writer.close();
    } catch (IOException e) {
      // Nothing to keep: the temporary file is removed next.
    }
    try {
      Files.deleteIfExists(temporary);
    } catch (IOException e) {
      // A stray temporary file is harmless; the target was never touched.
    }
  }
}
