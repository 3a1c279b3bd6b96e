package org.mmuemu.kernel.trace;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import org.mmuemu.core.machine.AccessKind;

/**
 * Reads valgrind lackey memory traces ({@code valgrind --tool=lackey --trace-mem=yes}).
 *
 * <p>Record lines are {@code I  addr,size} (instruction fetch), {@code  L addr,size} (load),
 * {@code  S addr,size} (store) and {@code  M addr,size} (modify: a load and a store of the same
 * bytes, translated once as a store); the address is hexadecimal, the size decimal. Lines that
 * start with {@code ==} (valgrind's banner and summary) and blank lines are skipped. Any other
 * line is malformed: it stops the read with its line number, or in lenient mode is skipped and
 * counted.
 *
 * <p>Not thread-safe.
 */
public final class LackeyTraceReader implements Closeable {
  private static final String EXPECTATION =
      "malformed lackey line (expected \"I  addr,size\", \" L addr,size\", \" S addr,size\" or \" M addr,size\")";
  private static final int MAX_ACCESS_BYTES = 1 << 16;
  private final BufferedReader reader;
  private final String sourceName;
  private final boolean lenient;
  private long lineNumber;
  private long skippedLines;
  private long ignoredLines;

  /**
   * @param sourceName the name used in error messages (the file name)
   * @param lenient skip and count malformed lines instead of failing
   */
  public LackeyTraceReader(BufferedReader reader, String sourceName, boolean lenient) {
    this.reader = reader;
    this.sourceName = sourceName;
    this.lenient = lenient;
  }

  /**
   * Reads the next record into {@code record}.
   *
   * @return false at the end of the trace
   * @throws TraceFormatException on a malformed line, unless lenient
   */
  public boolean next(MemoryRecord record) throws IOException, TraceFormatException {
    String line;
    while ((line = reader.readLine()) != null) {
      lineNumber++;
      if (line.isBlank() || line.startsWith("==")) {
        ignoredLines++;
        continue;
      }
      if (parse(line, record)) {
        return true;
      }
      if (!lenient) {
        throw new TraceFormatException(sourceName, lineNumber, EXPECTATION, line);
      }
      skippedLines++;
    }
    return false;
  }

  /** Lines read so far. */
  public long lineNumber() {
    return lineNumber;
  }

  /** Malformed lines skipped in lenient mode. */
  public long skippedLines() {
    return skippedLines;
  }

  /** Banner and blank lines. */
  public long ignoredLines() {
    return ignoredLines;
  }

  static boolean parse(String line, MemoryRecord record) {
    int length = line.length();
    int position;
    char kindChar;
    if (length > 0 && line.charAt(0) == 'I') {
      kindChar = 'I';
      position = 1;
    } else if (length > 2 && line.charAt(0) == ' ' && line.charAt(2) == ' ') {
      kindChar = line.charAt(1);
      position = 2;
    } else {
      return false;
    }
    switch (kindChar) {
      case 'I' -> {
        record.kind = AccessKind.FETCH;
        record.modify = false;
      }
      case 'L' -> {
        record.kind = AccessKind.READ;
        record.modify = false;
      }
      case 'S' -> {
        record.kind = AccessKind.WRITE;
        record.modify = false;
      }
      case 'M' -> {
        record.kind = AccessKind.WRITE;
        record.modify = true;
      }
      default -> {
        return false;
      }
    }
    int spaces = 0;
    while (position < length && line.charAt(position) == ' ') {
      position++;
      spaces++;
    }
    if (spaces == 0) {
      return false;
    }
    long va = 0;
    int digits = 0;
    while (position < length && line.charAt(position) != ',') {
      int digit = Character.digit(line.charAt(position), 16);
      if (digit < 0 || ++digits > 16) {
        return false;
      }
      va = (va << 4) | digit;
      position++;
    }
    if (digits == 0 || position >= length) {
      return false;
    }
    position++; // the comma
    int size = 0;
    int sizeDigits = 0;
    while (position < length && Character.isDigit(line.charAt(position))) {
      size = size * 10 + (line.charAt(position) - '0');
      position++;
      if (++sizeDigits > 6) {
        return false;
      }
    }
    while (position < length && Character.isWhitespace(line.charAt(position))) {
      position++;
    }
    if (sizeDigits == 0 || position != length || size == 0 || size > MAX_ACCESS_BYTES) {
      return false;
    }
    record.va = va;
    record.sizeBytes = size;
    return true;
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
