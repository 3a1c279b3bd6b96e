package org.mmuemu.configs;

import java.util.List;
import org.mmuemu.core.config.ConfigProblem;

/**
 * A machine config could not be loaded: every problem found, one line each, in the form {@code
 * /tlb/levels/2/ways: 7 (expected: divides entries 1280)}.
 *
 * <p>Unchecked on purpose: a command or a control-port handler catches it at its boundary and
 * prints {@link #getMessage()} (the lines joined by newlines) instead of a stack trace; code in
 * between has nothing to recover. Immutable.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient List<ConfigProblem> problems;
  private final List<String> lines;

  /**
   * Creates the exception.
   *
   * @param problems at least one problem, in report order
   */
  public ConfigException(List<ConfigProblem> problems) {
    super(String.join("\n", problems.stream().map(ConfigProblem::toString).toList()));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("problems: [] (expected: at least one problem)");
    }
    this.problems = List.copyOf(problems);
    this.lines = this.problems.stream().map(ConfigProblem::toString).toList();
  }

  /** The problems, in report order. */
  public List<ConfigProblem> problems() {
    return problems;
  }

  /** One line per problem, in report order; {@link #getMessage()} is these joined by newlines. */
  public List<String> lines() {
    return lines;
  }
}
