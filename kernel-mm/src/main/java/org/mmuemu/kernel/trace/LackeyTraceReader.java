package org.mmuemu.kernel.trace;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import org.mmuemu.core.machine.AccessKind;

/**
 * Reads valgrind lackey memory traces ({@code valgrind --tool=lackey --trace-mem=yes}).
 *
 * <p>Record lines are {@code I addr,size} (instruction fetch), {@code L addr,size} (load), {@code S
 * addr,size} (store) and {@code M addr,size} (modify: a load and a store of the same bytes,
 * translated once as a store); the address is hexadecimal, the size decimal. Lines that start with
 * {@code ==} (valgrind's banner and summary) and blank lines are skipped. Any other line is
 * malformed: it stops the read with its line number, or in lenient mode is skipped and counted.
 *
 * <p>Lines are read in bounded memory: a line longer than {@code maxLineBytes} (the input is read
 * as ISO-8859-1, one char per byte) is never held whole. It stops the read with its line number, or
 * in lenient mode is skipped and counted like a malformed line (and in {@link #longLines}), so a
 * hostile trace of one endless line costs no more than a short one.
 *
 * <p>Not thread-safe.
 */
public final class LackeyTraceReader implements Closeable {
  private static final String EXPECTATION =
      "malformed lackey line (expected \"I  addr,size\", \" L addr,size\", \" S addr,size\" or \" M addr,size\")";
  private static final int MAX_ACCESS_BYTES = 1 << 16;

  /** The default longest line: real lackey lines are under 40 bytes. */
  public static final int DEFAULT_MAX_LINE_BYTES = 4096;

  private static final int EOF = -1;
  private static final int LINE = 0;
  private static final int LONG_LINE = 1;
  private final Reader reader;
  private final int maxLineBytes;
  private final char[] buffer = new char[8192];
  private int bufferPosition;
  private int bufferLimit;
  private final StringBuilder line = new StringBuilder(64);
  private long longLines;
  private final String sourceName;
  private final boolean lenient;
  private long lineNumber;
  private long skippedLines;
  private long ignoredLines;

  /**
   * @param sourceName the name used in error messages (the file name)
   * @param lenient skip and count malformed lines instead of failing
   */
  public LackeyTraceReader(Reader reader, String sourceName, boolean lenient) {
    this(reader, sourceName, lenient, DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * @param sourceName the name used in error messages (the file name)
   * @param lenient skip and count malformed and overlong lines instead of failing
   * @param maxLineBytes the longest line accepted, at least 64
   */
  public LackeyTraceReader(Reader reader, String sourceName, boolean lenient, int maxLineBytes) {
    if (maxLineBytes < 64) {
      throw new IllegalArgumentException(
          "maxLineBytes: " + maxLineBytes + " (expected: at least 64)");
    }
    this.reader = reader;
    this.sourceName = sourceName;
    this.lenient = lenient;
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Reads the next record into {@code record}.
   *
   * @return false at the end of the trace
   * @throws TraceFormatException on a malformed line, unless lenient
   */
  public boolean next(MemoryRecord record) throws IOException, TraceFormatException {
    int state;
    while ((state = readLine()) != EOF) {
      lineNumber++;
      if (state == LONG_LINE) {
        if (!lenient) {
          throw new TraceFormatException(
              sourceName,
              lineNumber,
              "line longer than " + maxLineBytes + " bytes (the limit; see --max-line-bytes)");
        }
        longLines++;
        skippedLines++;
        continue;
      }
      if (line.isEmpty()
          || line.toString().isBlank()
          || (line.length() >= 2 && line.charAt(0) == '=' && line.charAt(1) == '=')) {
        ignoredLines++;
        continue;
      }
      if (parse(line, record)) {
        return true;
      }
      if (!lenient) {
        throw new TraceFormatException(sourceName, lineNumber, EXPECTATION, line.toString());
      }
      skippedLines++;
    }
    return false;
  }

  /**
   * Reads the next line (without its {@code \n} or {@code \r\n}) into {@link #line}, keeping at
   * most {@code maxLineBytes} of it.
   *
   * @return {@link #LINE}, {@link #LONG_LINE} (the rest was read and dropped) or {@link #EOF}
   */
  private int readLine() throws IOException {
    line.setLength(0);
    boolean sawAny = false;
    boolean tooLong = false;
    while (true) {
      if (bufferPosition == bufferLimit) {
        bufferLimit = reader.read(buffer, 0, buffer.length);
        bufferPosition = 0;
        if (bufferLimit <= 0) {
          bufferLimit = 0;
          return !sawAny ? EOF : tooLong ? LONG_LINE : LINE;
        }
      }
      sawAny = true;
      int start = bufferPosition;
      while (bufferPosition < bufferLimit && buffer[bufferPosition] != '\n') {
        bufferPosition++;
      }
      if (!tooLong) {
        line.append(buffer, start, bufferPosition - start);
        if (line.length() > maxLineBytes + 1) {
          tooLong = true;
          line.setLength(0);
        }
      }
      if (bufferPosition < bufferLimit) {
        bufferPosition++; // the newline
        if (!tooLong && line.length() > 0 && line.charAt(line.length() - 1) == '\r') {
          line.setLength(line.length() - 1);
        }
        return tooLong || line.length() > maxLineBytes ? LONG_LINE : LINE;
      }
    }
  }

  /** Lines longer than the limit, skipped in lenient mode. */
  public long longLines() {
    return longLines;
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

  static boolean parse(CharSequence line, MemoryRecord record) {
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
