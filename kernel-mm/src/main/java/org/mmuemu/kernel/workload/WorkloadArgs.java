package org.mmuemu.kernel.workload;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A workload's parameters, resolved once from its declarations ({@link Workload#params()}): every
 * given {@code --param} checked and normalized, defaults filled in, and read back typed. Workloads
 * never parse a parameter themselves.
 */
public final class WorkloadArgs {
  private final String workload;
  private final Map<String, WorkloadParam> declared;
  private final Map<String, String> values;

  private WorkloadArgs(
      String workload, Map<String, WorkloadParam> declared, Map<String, String> values) {
    this.workload = workload;
    this.declared = declared;
    this.values = Collections.unmodifiableMap(values);
  }

  /**
   * Checks {@code given} against {@code workload}'s declared parameters. A parameter whose default
   * is null and that is not given is left out (the workload computes it).
   *
   * @throws WorkloadException naming the {@code --param} and the expectation
   */
  public static WorkloadArgs resolve(Workload workload, Map<String, String> given)
      throws WorkloadException {
    Map<String, WorkloadParam> declared = new TreeMap<>();
    for (WorkloadParam param : workload.params()) {
      declared.put(param.name(), param);
    }
    Map<String, String> resolved = new TreeMap<>();
    for (Map.Entry<String, String> entry : given.entrySet()) {
      WorkloadParam param = declared.get(entry.getKey());
      if (param == null) {
        throw new WorkloadException(
            "--param "
                + entry.getKey()
                + "="
                + entry.getValue()
                + ": unknown parameter of workload "
                + workload.name()
                + " (expected one of: "
                + String.join(", ", declared.keySet())
                + ")");
      }
      try {
        resolved.put(param.name(), param.normalize(entry.getValue()));
      } catch (IllegalArgumentException e) {
        throw new WorkloadException(
            "--param " + entry.getKey() + "=" + entry.getValue() + ": " + e.getMessage());
      }
    }
    for (WorkloadParam param : declared.values()) {
      if (!resolved.containsKey(param.name()) && param.defaultValue() != null) {
        resolved.put(param.name(), param.normalize(param.defaultValue()));
      }
    }
    return new WorkloadArgs(workload.name(), declared, resolved);
  }

  /**
   * Every resolved parameter by name, normalized (the result's effective parameters start here).
   */
  public Map<String, String> asMap() {
    return values;
  }

  /** Whether {@code name} has a value (a parameter without default may be absent). */
  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** An integer parameter. */
  public long integer(String name) {
    return Long.parseLong(value(name, WorkloadParam.Type.INTEGER));
  }

  /** An integer parameter that fits an int (its declared range says so). */
  public int intValue(String name) {
    return Math.toIntExact(integer(name));
  }

  /** A 0/1 integer parameter, as a switch. */
  public boolean flag(String name) {
    return integer(name) != 0;
  }

  /** A size parameter, in bytes. */
  public long bytes(String name) {
    return Long.parseLong(value(name, WorkloadParam.Type.SIZE));
  }

  /** A fraction parameter, from 0 to 1. */
  public double fraction(String name) {
    return Double.parseDouble(value(name, WorkloadParam.Type.FRACTION));
  }

  /** A choice parameter, lower-case. */
  public String choice(String name) {
    return value(name, WorkloadParam.Type.CHOICE);
  }

  /** A text parameter. */
  public String text(String name) {
    return value(name, WorkloadParam.Type.TEXT);
  }

  // A wrong name or type is the workload's own bug, never the user's input.
  private String value(String name, WorkloadParam.Type type) {
    WorkloadParam param = declared.get(name);
    if (param == null || param.type() != type) {
      throw new IllegalStateException(
          "workload "
              + workload
              + " reads "
              + name
              + " as "
              + type
              + " but declares "
              + (param == null ? "no such parameter" : param.type()));
    }
    String value = values.get(name);
    if (value == null) {
      throw new IllegalStateException(
          "workload " + workload + " reads " + name + ", which has no value");
    }
    return value;
  }
}
