package org.mmuemu.kernel.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.AccessKind;

/**
 * The reader must hold a line in bounded memory whatever the input (a hostile trace of one endless
 * line ran the replay out of heap), name the line it stops at, and never echo control characters to
 * the terminal.
 */
final class LackeyTraceReaderTest {
  /** An endless line of one character, produced on demand: never held anywhere whole. */
  private static Reader endlessLine(long length, String after) {
    return new Reader() {
      private long produced;
      private final StringReader tail = new StringReader(after);

      @Override
      public int read(char[] buffer, int offset, int count) throws IOException {
        if (produced >= length) {
          return tail.read(buffer, offset, count);
        }
        int n = (int) Math.min(count, length - produced);
        java.util.Arrays.fill(buffer, offset, offset + n, '7');
        produced += n;
        return n;
      }

      @Override
      public void close() {}
    };
  }

  @Test
  void overlongLine_stopsWithItsLineNumber() throws Exception {
    LackeyTraceReader reader =
        new LackeyTraceReader(
            new StringReader("I  0400000,4\n" + "x".repeat(5000) + "\n S 1000,8\n"),
            "t.txt",
            false);
    MemoryRecord record = new MemoryRecord();

    assertThat(reader.next(record)).isTrue();
    assertThatThrownBy(() -> reader.next(record))
        .isInstanceOf(TraceFormatException.class)
        .hasMessage("t.txt:2: line longer than 4096 bytes (the limit; see --max-line-bytes)");
  }

  @Test
  void lineAtTheLimit_isRead() throws Exception {
    String line = " L 1000," + "0".repeat(4096 - 9) + "8";
    LackeyTraceReader reader = new LackeyTraceReader(new StringReader(line + "\n"), "t.txt", true);
    MemoryRecord record = new MemoryRecord();

    // Read (not skipped as long) and then rejected for its size digits: malformed, not long.
    assertThat(reader.next(record)).isFalse();
    assertThat(reader.skippedLines()).isEqualTo(1);
    assertThat(reader.longLines()).isZero();
  }

  @Test
  void lenient_skipsAndCountsAHugeLine_andReadsOn() throws Exception {
    LackeyTraceReader reader =
        new LackeyTraceReader(endlessLine(300_000_000L, "\n S 1000,8\r\n"), "t.txt", true, 64);
    MemoryRecord record = new MemoryRecord();

    assertThat(reader.next(record)).isTrue();
    assertThat(record.kind).isEqualTo(AccessKind.WRITE);
    assertThat(record.va).isEqualTo(0x1000);
    assertThat(reader.lineNumber()).isEqualTo(2);
    assertThat(reader.longLines()).isEqualTo(1);
    assertThat(reader.skippedLines()).isEqualTo(1);
  }

  @Test
  void hugeLastLineWithoutNewline_isLong() {
    LackeyTraceReader reader = new LackeyTraceReader(endlessLine(100_000, ""), "t.txt", false);

    assertThatThrownBy(() -> reader.next(new MemoryRecord()))
        .hasMessageStartingWith("t.txt:1: line longer than");
  }

  @Test
  void malformedLine_isEchoedWithControlCharactersEscaped() {
    LackeyTraceReader reader =
        new LackeyTraceReader(new StringReader("\u001b]0;owned\u0007\u001b[2J\n"), "t.txt", false);

    assertThatThrownBy(() -> reader.next(new MemoryRecord()))
        .isInstanceOf(TraceFormatException.class)
        .hasMessageEndingWith("got \"\\x1b]0;owned\\x07\\x1b[2J\"")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u001b"));
  }
}
