package org.mmuemu.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.registry.Workloads;

/**
 * A checked {@code run} request: everything the run needs, validated on the event loop before a run
 * slot is taken. Immutable.
 *
 * <p>The machine is a built-in name or an inline config object ({@code machineJson}); a name that
 * is not built in is refused, so a remote client never makes the server read its own disk. Problems
 * are reported with the JSON pointer of the offending member.
 *
 * @param machineName the built-in machine, or null when {@code machineJson} is given
 * @param machineJson an inline machine config (its {@code extends} may name built-ins only)
 * @param overrides {@code --set}-style overrides, {@code /pointer=value}
 * @param workload the workload (from the {@link Workloads} registry: no trace files)
 * @param params workload parameters as text
 * @param seed the run's seed
 * @param eventMask the event kinds to stream, as {@link EventKind#bit()}s; 0 streams none
 * @param sampleEvery stream one matching event in this many, at least 1
 * @param pauseWhenSlow pause the run while the client is slow (else drop events and count)
 */
record RunSpec(
    String machineName,
    String machineJson,
    List<String> overrides,
    Workload workload,
    Map<String, String> params,
    long seed,
    long eventMask,
    long sampleEvery,
    boolean pauseWhenSlow) {

  private static final Set<String> FIELDS =
      Set.of(
          "id",
          "op",
          "machine",
          "set",
          "workload",
          "params",
          "seed",
          "events",
          "sample",
          "onSlowClient");

  /**
   * Checks a {@code run} request.
   *
   * @param isBuiltInMachine tells built-in machine names
   * @param builtInMachines the built-in names, for the error message
   * @throws ProtocolException ({@code bad_request}) naming the member and what was expected
   */
  static RunSpec parse(
      JsonNode request,
      java.util.function.Predicate<String> isBuiltInMachine,
      List<String> builtInMachines)
      throws ProtocolException {
    for (Iterator<String> names = request.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw bad(
            "/" + name + ": unknown member (expected: " + String.join(", ", sorted(FIELDS)) + ")");
      }
    }
    JsonNode machine = request.get("machine");
    String machineName = null;
    String machineJson = null;
    if (machine == null) {
      throw bad("/machine: missing (expected: a built-in machine name or an inline config object)");
    } else if (machine.isTextual()) {
      machineName = machine.textValue();
      if (!isBuiltInMachine.test(machineName)) {
        throw bad(
            "/machine: "
                + machineName
                + " (expected: a built-in machine ("
                + String.join(", ", builtInMachines)
                + ") or an inline config object; the server reads no config files for a client)");
      }
    } else if (machine.isObject()) {
      machineJson = Messages.text(machine);
    } else {
      throw bad(
          "/machine: "
              + machine
              + " (expected: a built-in machine name or an inline config object)");
    }
    List<String> overrides = new ArrayList<>();
    JsonNode set = request.get("set");
    if (set != null) {
      if (!set.isArray()) {
        throw bad("/set: " + set + " (expected: an array of \"/pointer=value\" strings)");
      }
      for (int i = 0; i < set.size(); i++) {
        if (!set.get(i).isTextual()) {
          throw bad("/set/" + i + ": " + set.get(i) + " (expected: a \"/pointer=value\" string)");
        }
        overrides.add(set.get(i).textValue());
      }
    }
    JsonNode workloadNode = request.get("workload");
    if (workloadNode == null || !workloadNode.isTextual()) {
      throw bad(
          "/workload: "
              + (workloadNode == null ? "missing" : workloadNode.toString())
              + " (expected one of: "
              + String.join(", ", Workloads.all().keySet())
              + ")");
    }
    Workload workload = Workloads.all().get(workloadNode.textValue());
    if (workload == null) {
      throw bad(
          "/workload: "
              + workloadNode.textValue()
              + " (expected one of: "
              + String.join(", ", Workloads.all().keySet())
              + ")");
    }
    Map<String, String> params = new LinkedHashMap<>();
    JsonNode paramsNode = request.get("params");
    if (paramsNode != null) {
      if (!paramsNode.isObject()) {
        throw bad("/params: " + paramsNode + " (expected: an object of parameter names to values)");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = paramsNode.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        JsonNode value = entry.getValue();
        if (!value.isTextual() && !value.isNumber()) {
          throw bad(
              "/params/" + entry.getKey() + ": " + value + " (expected: a string or a number)");
        }
        params.put(entry.getKey(), value.isTextual() ? value.textValue() : value.asText());
      }
    }
    long seed = integer(request, "seed", 1, Long.MIN_VALUE);
    long sample = integer(request, "sample", 1, 1);
    long mask = eventMask(request.get("events"));
    JsonNode slow = request.get("onSlowClient");
    boolean pause = true;
    if (slow != null) {
      if (!slow.isTextual()
          || !(slow.textValue().equals("pause") || slow.textValue().equals("drop"))) {
        throw bad("/onSlowClient: " + slow + " (expected: \"pause\" or \"drop\")");
      }
      pause = slow.textValue().equals("pause");
    }
    return new RunSpec(
        machineName,
        machineJson,
        List.copyOf(overrides),
        workload,
        Map.copyOf(params),
        seed,
        mask,
        sample,
        pause);
  }

  /** The kinds named in {@code events} (an array of dotted names, or "all"); none when absent. */
  static long eventMask(JsonNode events) throws ProtocolException {
    if (events == null) {
      return 0;
    }
    List<JsonNode> names = new ArrayList<>();
    if (events.isTextual()) {
      names.add(events);
    } else if (events.isArray()) {
      events.forEach(names::add);
    } else {
      throw bad("/events: " + events + " (expected: an array of event kinds, or \"all\")");
    }
    long mask = 0;
    for (int i = 0; i < names.size(); i++) {
      JsonNode name = names.get(i);
      String pointer = events.isArray() ? "/events/" + i : "/events";
      if (!name.isTextual()) {
        throw bad(pointer + ": " + name + " (expected: an event kind name)");
      }
      if (name.textValue().equalsIgnoreCase("all")) {
        mask = -1L;
        continue;
      }
      try {
        mask |= EventKind.fromDottedName(name.textValue().trim()).bit();
      } catch (IllegalArgumentException e) {
        throw bad(pointer + ": " + e.getMessage().substring("event kind: ".length()));
      }
    }
    return mask;
  }

  private static long integer(JsonNode request, String name, long defaultValue, long min)
      throws ProtocolException {
    JsonNode node = request.get(name);
    if (node == null) {
      return defaultValue;
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < min) {
      throw bad(
          "/"
              + name
              + ": "
              + node
              + " (expected: an integer"
              + (min == Long.MIN_VALUE ? "" : " >= " + min)
              + ")");
    }
    return node.longValue();
  }

  private static List<String> sorted(Set<String> names) {
    return names.stream().sorted().toList();
  }

  private static ProtocolException bad(String message) {
    return new ProtocolException(Messages.BAD_REQUEST, message);
  }
}
