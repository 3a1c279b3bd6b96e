package org.mmuemu.kernel.trace;

import org.mmuemu.core.text.TerminalText;

/**
 * A trace line that is not in the expected format; the message names the file and line, and shows
 * the line (abbreviated, control characters escaped so a crafted trace cannot drive the user's
 * terminal).
 */
public final class TraceFormatException extends Exception {
  private static final long serialVersionUID = 1L;
  private final long lineNumber;

  public TraceFormatException(String source, long lineNumber, String expectation, String line) {
    super(
        source
            + ":"
            + lineNumber
            + ": "
            + expectation
            + ", got \""
            + TerminalText.escape(abbreviate(line))
            + "\"");
    this.lineNumber = lineNumber;
  }

  /** A line that is wrong as a whole (too long): the message does not show it. */
  public TraceFormatException(String source, long lineNumber, String problem) {
    super(source + ":" + lineNumber + ": " + problem);
    this.lineNumber = lineNumber;
  }

  public long lineNumber() {
    return lineNumber;
  }

  private static String abbreviate(String line) {
    return line.length() <= 80 ? line : line.substring(0, 77) + "...";
  }
}
