package org.mmuemu.kernel.trace;

/** A trace line that is not in the expected format; the message names the file and line. */
public final class TraceFormatException extends Exception {
  private static final long serialVersionUID = 1L;
  private final long lineNumber;

  public TraceFormatException(String source, long lineNumber, String expectation, String line) {
    super(source + ":" + lineNumber + ": " + expectation + ", got \"" + abbreviate(line) + "\"");
    this.lineNumber = lineNumber;
  }

  public long lineNumber() {
    return lineNumber;
  }

  private static String abbreviate(String line) {
    return line.length() <= 80 ? line : line.substring(0, 77) + "...";
  }
}
