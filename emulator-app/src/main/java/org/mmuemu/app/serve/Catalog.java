package org.mmuemu.app.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadParam;
import org.mmuemu.kernel.workload.registry.Workloads;

/**
 * What {@code list} answers: the built-in machines, the workloads with their parameters, the
 * scenarios, and the event kinds with their fields. Built once when the server starts (loading
 * every built-in machine validates it), so {@code list} costs the event loop nothing. Immutable.
 */
final class Catalog {
  private final ObjectNode body;

  Catalog(MachineConfigLoader loader) {
    body = Messages.MAPPER.createObjectNode();
    ArrayNode machines = body.putArray("machines");
    for (String name : loader.builtInMachineNames()) {
      LoadedMachine machine = loader.load(name);
      ObjectNode entry = machines.addObject();
      entry.put("name", name);
      entry.put("isa", machine.spec().isa());
      entry.put("cores", machine.spec().cores());
      entry.put(
          "description", machine.spec().description() == null ? "" : machine.spec().description());
    }
    ArrayNode workloads = body.putArray("workloads");
    for (Workload workload : Workloads.all().values()) {
      ObjectNode entry = workloads.addObject();
      entry.put("name", workload.name());
      entry.put("description", workload.description());
      ArrayNode params = entry.putArray("params");
      for (WorkloadParam param : workload.params()) {
        ObjectNode p = params.addObject();
        p.put("name", param.name());
        p.put("type", param.type().name().toLowerCase(java.util.Locale.ROOT));
        if (param.defaultValue() != null) {
          p.put("default", param.defaultValue());
        }
        p.put("description", param.description());
        if (param.type() == WorkloadParam.Type.CHOICE) {
          param.choices().forEach(p.putArray("choices")::add);
        }
      }
    }
    // MODEL: no race scenarios exist yet; the member is there so clients need not change when they
    // do.
    body.putArray("scenarios");
    ArrayNode events = body.putArray("events");
    for (EventKind kind : EventKind.values()) {
      ObjectNode entry = events.addObject();
      entry.put("kind", kind.dottedName());
      ArrayNode fields = entry.putArray("fields");
      fields.add("cycle").add("core");
      for (int i = 0; i < 3; i++) {
        if (kind.payloadName(i) != null) {
          fields.add(kind.payloadName(i));
        }
      }
    }
  }

  /** Copies the catalog into a reply. */
  void addTo(ObjectNode reply) {
    reply.setAll(body.deepCopy());
  }
}
