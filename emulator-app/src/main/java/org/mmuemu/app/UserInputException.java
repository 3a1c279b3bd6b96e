package org.mmuemu.app;

import java.util.List;

/** Bad input from the user: reported as its lines, exit code 2, no stack trace. */
public final class UserInputException extends Exception {
  private static final long serialVersionUID = 1L;
  private final List<String> lines;

  public UserInputException(String line) {
    this(List.of(line));
  }

  public UserInputException(List<String> lines) {
    super(String.join("\n", lines));
    this.lines = List.copyOf(lines);
  }

  public List<String> lines() {
    return lines;
  }
}
