package org.mmuemu.kernel.scenario;

import java.util.Map;

/**
 * One step of a scenario program: an operation ({@link ScenarioOps}) and its arguments as read from
 * the file (strings, whole numbers), with the JSON pointer of the step for messages.
 */
public record ScenarioStep(String op, Map<String, Object> args, String pointer) {
  public ScenarioStep {
    args = Map.copyOf(args);
  }

  /** A text argument, or null when absent. */
  public String text(String key) {
    Object value = args.get(key);
    return value == null ? null : value.toString();
  }
}
