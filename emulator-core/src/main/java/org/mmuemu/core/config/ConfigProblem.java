package org.mmuemu.core.config;

/**
 * One problem found in a configuration, located by a JSON pointer.
 *
 * <p>Rendered as {@code /tlb/levels/2/ways: 7 (expected: divides entries 1280)}, the form every
 * config error in mmuemu takes, so a user can find the place without reading a stack trace.
 *
 * @param pointer RFC 6901 JSON pointer of the offending value ({@code ""} for the document root)
 * @param message what was found and what was expected
 */
public record ConfigProblem(String pointer, String message) implements Comparable<ConfigProblem> {

  /** Builds the standard {@code found (expected: ...)} message. */
  public static ConfigProblem expected(String pointer, Object found, String expectation) {
    return new ConfigProblem(pointer, found + " (expected: " + expectation + ")");
  }

  @Override
  public int compareTo(ConfigProblem other) {
    int byPointer = pointer.compareTo(other.pointer);
    return byPointer != 0 ? byPointer : message.compareTo(other.message);
  }

  @Override
  public String toString() {
    return (pointer.isEmpty() ? "/" : pointer) + ": " + message;
  }
}
