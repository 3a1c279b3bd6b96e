package org.mmuemu.configs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.mmuemu.core.config.ByteSize;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.NumaNodeSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.kernel.config.KernelConfig;

/**
 * Fills defaults into a validated config and binds it to a {@link MachineSpec}. Runs only on
 * configs that passed the schema and {@link MachineChecks}, so every value has its type. Stateless.
 */
final class MachineBinder {
  static final int DEFAULT_ACCESS_CYCLES = 4;
  static final long DEFAULT_QUANTUM_CYCLES = 0;
  static final List<Integer> DEFAULT_MEMORY_REF_CYCLES = List.of(20);
  static final int DEFAULT_WALK_CACHE_HIT_CYCLES = 2;
  static final String DEFAULT_REPLACEMENT = "lru";

  private static final List<String> LEVEL_ORDER =
      List.of("name", "serves", "entries", "ways", "pageSizes", "hitCycles", "replacement");

  private MachineBinder() {}

  /**
   * Returns the resolved config: keys in a fixed order, defaults filled in for the top level, the
   * walker, each TLB level's replacement and the kernel section.
   *
   * @param isaId the ISA's id as its provider declares it
   */
  static ObjectNode resolved(ObjectNode merged, String isaId) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode out = f.objectNode();
    out.set("name", merged.get("name"));
    out.set(
        "description",
        merged.has("description") ? merged.get("description") : TextNode.valueOf(""));
    out.set("isa", TextNode.valueOf(isaId));
    out.set("cores", merged.get("cores"));
    out.set("frequencyGHz", merged.get("frequencyGHz"));
    out.set("memoryBytes", merged.get("memoryBytes"));
    out.set(
        "accessCycles",
        merged.has("accessCycles")
            ? merged.get("accessCycles")
            : IntNode.valueOf(DEFAULT_ACCESS_CYCLES));
    out.set(
        "quantumCycles",
        merged.has("quantumCycles")
            ? merged.get("quantumCycles")
            : f.numberNode(DEFAULT_QUANTUM_CYCLES));
    if (merged.has("numaNodes")) {
      out.set("numaNodes", merged.get("numaNodes")); // absent: one node (not spelt out)
    }

    ObjectNode tlb = out.putObject("tlb");
    ArrayNode levels = tlb.putArray("levels");
    for (JsonNode level : merged.get("tlb").get("levels")) {
      ObjectNode ordered = ordered((ObjectNode) level, LEVEL_ORDER);
      if (!ordered.has("replacement")) {
        ordered.put("replacement", DEFAULT_REPLACEMENT);
      }
      levels.add(ordered);
    }

    JsonNode walkerIn = merged.path("walker");
    ObjectNode walker = out.putObject("walker");
    if (walkerIn.has("memoryRefCycles")) {
      walker.set("memoryRefCycles", walkerIn.get("memoryRefCycles"));
    } else {
      ArrayNode refs = walker.putArray("memoryRefCycles");
      DEFAULT_MEMORY_REF_CYCLES.forEach(refs::add);
    }
    walker.set(
        "walkCacheHitCycles",
        walkerIn.has("walkCacheHitCycles")
            ? walkerIn.get("walkCacheHitCycles")
            : IntNode.valueOf(DEFAULT_WALK_CACHE_HIT_CYCLES));
    walker.set(
        "walkCaches", walkerIn.has("walkCaches") ? walkerIn.get("walkCaches") : f.arrayNode());

    if (merged.has(isaId)) {
      out.set(isaId, merged.get(isaId));
    }
    out.set("kernel", resolvedKernel(merged.get("kernel")));
    for (String key : JsonSupport.keys(merged)) {
      if (!out.has(key) && !key.equals("provenance")) {
        out.set(key, merged.get(key));
      }
    }
    if (merged.has("provenance")) {
      out.set("provenance", merged.get("provenance"));
    }
    return out.deepCopy();
  }

  /**
   * The kernel section with every cost present (the config's keys in order, then defaults sorted),
   * every variant and every tunable.
   */
  private static ObjectNode resolvedKernel(JsonNode kernelIn) {
    KernelConfig kernel =
        KernelConfig.read(new ConfigSection("/kernel", JsonSupport.toPlainMap(kernelIn)));
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    ObjectNode costs = out.putObject("costs");
    JsonNode costsIn = kernelIn == null ? null : kernelIn.get("costs");
    Map<String, Long> costValues = kernel.costs().asMap();
    for (String key : JsonSupport.keys(costsIn)) {
      costs.put(key, costValues.get(key));
    }
    for (String key : new TreeSet<>(costValues.keySet())) {
      if (!costs.has(key)) {
        costs.put(key, costValues.get(key));
      }
    }
    ObjectNode variants = out.putObject("variants");
    new TreeMap<>(kernel.variants().asMap()).forEach(variants::put);
    ObjectNode tunables = out.putObject("tunables");
    new TreeMap<>(kernel.tunables().asMap())
        .forEach(
            (key, value) -> {
              if (value instanceof Long number) {
                tunables.put(key, number);
              } else if (value instanceof Map<?, ?> bySize) {
                ObjectNode nested = tunables.putObject(key); // mthp: a setting per size
                bySize.forEach((size, setting) -> nested.put((String) size, (String) setting));
              } else if (value instanceof Boolean flag) {
                tunables.put(key, flag);
              } else {
                tunables.put(key, String.valueOf(value));
              }
            });
    return out;
  }

  private static ObjectNode ordered(ObjectNode in, List<String> order) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    for (String key : order) {
      if (in.has(key)) {
        out.set(key, in.get(key));
      }
    }
    for (String key : JsonSupport.keys(in)) {
      if (!out.has(key)) {
        out.set(key, in.get(key));
      }
    }
    return out;
  }

  /** Binds a resolved config. */
  static MachineSpec bind(ObjectNode resolved, String isaId) {
    List<TlbLevelSpec> levels = new ArrayList<>();
    for (JsonNode level : resolved.get("tlb").get("levels")) {
      TreeSet<Long> sizes = new TreeSet<>();
      for (JsonNode size : level.get("pageSizes")) {
        sizes.add(ByteSize.parse(size.isNumber() ? size.numberValue() : size.textValue()));
      }
      levels.add(
          new TlbLevelSpec(
              level.get("name").textValue(),
              TlbLevelSpec.Serves.valueOf(level.get("serves").textValue().toUpperCase(Locale.ROOT)),
              level.get("entries").intValue(),
              level.get("ways").intValue(),
              List.copyOf(sizes),
              level.get("hitCycles").intValue(),
              TlbLevelSpec.Replacement.valueOf(
                  level.get("replacement").textValue().toUpperCase(Locale.ROOT))));
    }
    JsonNode walkerNode = resolved.get("walker");
    List<Integer> refs = new ArrayList<>();
    walkerNode.get("memoryRefCycles").forEach(n -> refs.add(n.intValue()));
    List<WalkerSpec.WalkCacheSpec> caches = new ArrayList<>();
    walkerNode
        .get("walkCaches")
        .forEach(
            n ->
                caches.add(
                    new WalkerSpec.WalkCacheSpec(
                        n.get("level").intValue(), n.get("entries").intValue())));
    caches.sort(Comparator.comparingInt(WalkerSpec.WalkCacheSpec::level));
    WalkerSpec walker =
        new WalkerSpec(refs, walkerNode.get("walkCacheHitCycles").intValue(), caches);

    long memoryBytes = bytes(resolved.get("memoryBytes"));
    List<NumaNodeSpec> numaNodes = new ArrayList<>();
    for (JsonNode node : resolved.path("numaNodes")) {
      List<Integer> cores = new ArrayList<>();
      node.get("cores").forEach(core -> cores.add(core.intValue()));
      numaNodes.add(new NumaNodeSpec(cores, bytes(node.get("memoryBytes"))));
    }
    Map<String, Object> isaSection = JsonSupport.toPlainMap(resolved.get(isaId));
    Map<String, Object> kernelSection = JsonSupport.toPlainMap(resolved.get("kernel"));
    return new MachineSpec(
        resolved.get("name").textValue(),
        resolved.get("description").textValue(),
        isaId,
        resolved.get("cores").intValue(),
        resolved.get("frequencyGHz").doubleValue(),
        memoryBytes,
        resolved.get("accessCycles").intValue(),
        resolved.get("quantumCycles").longValue(),
        levels,
        walker,
        new ConfigSection("/" + isaId, isaSection),
        new ConfigSection("/kernel", kernelSection),
        numaNodes);
  }

  private static long bytes(JsonNode size) {
    return ByteSize.parse(size.isNumber() ? size.numberValue() : size.textValue());
  }
}
