package org.mmuemu.kernel.workload;

import java.util.Map;
import java.util.TreeMap;

/** Checks {@code --param} values against a workload's declared parameters. */
public final class WorkloadParams {
  private WorkloadParams() {}

  /**
   * Returns every parameter of {@code workload}, normalized, with defaults for those not given.
   * A parameter whose default is null and is not given is left out (the workload computes it).
   *
   * @throws WorkloadException naming the {@code --param} and the expectation
   */
  public static Map<String, String> resolve(Workload workload, Map<String, String> given) throws WorkloadException {
    Map<String, WorkloadParam> declared = new TreeMap<>();
    for (WorkloadParam param : workload.params()) {
      declared.put(param.name(), param);
    }
    Map<String, String> resolved = new TreeMap<>();
    for (Map.Entry<String, String> entry : given.entrySet()) {
      WorkloadParam param = declared.get(entry.getKey());
      if (param == null) {
        throw new WorkloadException("--param " + entry.getKey() + "=" + entry.getValue()
            + ": unknown parameter of workload " + workload.name() + " (expected one of: "
            + String.join(", ", declared.keySet()) + ")");
      }
      try {
        resolved.put(param.name(), param.normalize(entry.getValue()));
      } catch (IllegalArgumentException e) {
        throw new WorkloadException("--param " + entry.getKey() + "=" + entry.getValue() + ": " + e.getMessage());
      }
    }
    for (WorkloadParam param : declared.values()) {
      if (!resolved.containsKey(param.name()) && param.defaultValue() != null) {
        resolved.put(param.name(), param.normalize(param.defaultValue()));
      }
    }
    return resolved;
  }
}
