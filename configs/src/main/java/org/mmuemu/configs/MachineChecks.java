package org.mmuemu.configs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.mmuemu.core.config.ByteSize;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.kernel.arch.ArchMachine;
import org.mmuemu.kernel.arch.registry.LinuxArchRegistry;
import org.mmuemu.kernel.config.KernelConfig;

/**
 * The checks a schema cannot express, run on the merged config whatever the schema found (every
 * check skips values of the wrong type, which the schema reports): TLB geometry, level names and
 * coverage, page sizes, memory size, the ISA id and its section (through {@link
 * IsaProvider#validate}), the kernel section (through {@link KernelConfig#validate}), walker levels
 * against the ISA's table depth, and provenance entries. Stateless.
 */
final class MachineChecks {
  /** ISA section names the schema knows, in case the registry at hand lacks one of them. */
  static final Set<String> SCHEMA_ISA_SECTIONS = Set.of("arm64", "x86");

  static final Pattern PROVENANCE_TAG = Pattern.compile("^[DMXER]([^A-Za-z]|$)");

  /** {@code PhysicalMemory} holds fewer than 2^31 - 8 frames. */
  static final long MAX_FRAMES = Integer.MAX_VALUE - 8L;

  private MachineChecks() {}

  /** Runs every check and returns the problems, in check order. */
  static List<ConfigProblem> check(JsonNode root, IsaRegistry registry) {
    List<ConfigProblem> problems = new ArrayList<>();
    int tableLevels = checkIsa(root, registry, problems);
    checkKernel(root, problems);
    checkKernelForArch(root, registry, problems);
    checkMemory(root, problems);
    checkNumaNodes(root, problems);
    checkTlb(root, problems);
    checkWalker(root, tableLevels, problems);
    checkProvenance(root, problems);
    return problems;
  }

  /**
   * Checks {@code /isa} and the ISA sections; returns the ISA's table levels, or -1 when unknown.
   */
  private static int checkIsa(JsonNode root, IsaRegistry registry, List<ConfigProblem> problems) {
    JsonNode isaNode = root.get("isa");
    if (isaNode == null || !isaNode.isTextual()) {
      return -1;
    }
    if (!registry.contains(isaNode.textValue())) {
      problems.add(
          ConfigProblem.expected(
              "/isa",
              JsonSupport.describe(isaNode),
              registry.ids().isEmpty()
                  ? "an ISA id, but no ISA module is on the classpath"
                  : "one of " + String.join(", ", registry.ids())));
      return -1;
    }
    IsaProvider provider = registry.get(isaNode.textValue());
    String isaId = provider.id().toLowerCase(Locale.ROOT);
    Set<String> sectionNames = new TreeSet<>(registry.ids());
    sectionNames.addAll(SCHEMA_ISA_SECTIONS);
    for (String other : sectionNames) {
      if (!other.equals(isaId) && root.has(other)) {
        problems.add(
            ConfigProblem.expected(
                "/" + other,
                JsonSupport.describe(root.get(other)),
                "no "
                    + other
                    + " section on an "
                    + isaId
                    + " machine; only /"
                    + isaId
                    + " configures its ISA"));
      }
    }
    JsonNode sectionNode = root.get(isaId);
    if (sectionNode != null && !sectionNode.isObject()) {
      return -1; // the schema reports the type
    }
    ConfigSection section = new ConfigSection("/" + isaId, JsonSupport.toPlainMap(sectionNode));
    try {
      List<ConfigProblem> isaProblems = provider.validate(section);
      problems.addAll(isaProblems);
      if (!isaProblems.isEmpty()) {
        return -1;
      }
      Isa isa =
          provider.create(new ConfigSection("/" + isaId, JsonSupport.toPlainMap(sectionNode)));
      return isa.pageTableFormat().levels();
    } catch (RuntimeException e) {
      problems.add(
          ConfigProblem.expected(
              "/" + isaId,
              JsonSupport.describe(sectionNode),
              "a section the " + isaId + " ISA accepts (" + e.getMessage() + ")"));
      return -1;
    }
  }

  private static void checkKernel(JsonNode root, List<ConfigProblem> problems) {
    JsonNode kernel = root.get("kernel");
    if (kernel != null && !kernel.isObject()) {
      return;
    }
    problems.addAll(
        KernelConfig.validate(new ConfigSection("/kernel", JsonSupport.toPlainMap(kernel))));
  }

  // each arch's own checks of the kernel section, once the section itself is sound
  private static void checkKernelForArch(
      JsonNode root, IsaRegistry registry, List<ConfigProblem> problems) {
    JsonNode kernel = root.get("kernel");
    JsonNode isaNode = root.get("isa");
    JsonNode cores = root.get("cores");
    if (!problems.isEmpty()
        || (kernel != null && !kernel.isObject())
        || isaNode == null
        || !isaNode.isTextual()
        || cores == null
        || !cores.canConvertToInt()) {
      return;
    }
    IsaProvider provider = registry.get(isaNode.textValue());
    String isaId = provider.id().toLowerCase(Locale.ROOT);
    Isa isa =
        provider.create(new ConfigSection("/" + isaId, JsonSupport.toPlainMap(root.get(isaId))));
    KernelConfig config =
        KernelConfig.read(new ConfigSection("/kernel", JsonSupport.toPlainMap(kernel)));
    problems.addAll(
        LinuxArchRegistry.check(
            isaId, new ArchMachine(cores.intValue(), isa.regime().asidBits()), config));
  }

  private static void checkMemory(JsonNode root, List<ConfigProblem> problems) {
    JsonNode memory = root.get("memoryBytes");
    if (memory == null || !(memory.isIntegralNumber() || memory.isTextual())) {
      return;
    }
    Long bytes = size(memory, "/memoryBytes", problems);
    if (bytes != null && (bytes < 4096 || bytes % 4096 != 0 || bytes / 4096 > MAX_FRAMES)) {
      problems.add(
          ConfigProblem.expected(
              "/memoryBytes",
              JsonSupport.describe(memory),
              "a multiple of 4KiB, from 4KiB to below 8TiB"));
    }
  }

  /**
   * Checks {@code /numaNodes} against {@code /cores} and {@code /memoryBytes}: every core in
   * exactly one node, every node's memory a positive multiple of 4KiB, the nodes' memory adding up
   * to the machine's. The schema checks the shape.
   */
  private static void checkNumaNodes(JsonNode root, List<ConfigProblem> problems) {
    JsonNode nodes = root.get("numaNodes");
    JsonNode coresNode = root.get("cores");
    if (nodes == null || !nodes.isArray() || coresNode == null || !coresNode.isInt()) {
      return;
    }
    int cores = coresNode.intValue();
    Map<Integer, Integer> nodeOfCore = new HashMap<>();
    long totalBytes = 0;
    boolean sizesKnown = true;
    for (int node = 0; node < nodes.size(); node++) {
      String pointer = "/numaNodes/" + node;
      JsonNode coreList = nodes.get(node).get("cores");
      if (coreList != null && coreList.isArray()) {
        for (int i = 0; i < coreList.size(); i++) {
          JsonNode core = coreList.get(i);
          if (!core.isInt()) {
            continue; // the schema reports the type
          }
          Integer previous = nodeOfCore.putIfAbsent(core.intValue(), node);
          if (core.intValue() < 0 || core.intValue() >= cores) {
            problems.add(
                ConfigProblem.expected(
                    pointer + "/cores/" + i,
                    JsonSupport.describe(core),
                    "a core id from 0 to " + (cores - 1) + " (/cores is " + cores + ")"));
          } else if (previous != null) {
            problems.add(
                ConfigProblem.expected(
                    pointer + "/cores/" + i,
                    JsonSupport.describe(core),
                    "a core in no other node (it is already in /numaNodes/" + previous + ")"));
          }
        }
      }
      JsonNode memory = nodes.get(node).get("memoryBytes");
      Long bytes = memory == null ? null : size(memory, pointer + "/memoryBytes", problems);
      if (bytes != null && (bytes < 4096 || bytes % 4096 != 0)) {
        problems.add(
            ConfigProblem.expected(
                pointer + "/memoryBytes", JsonSupport.describe(memory), "a multiple of 4KiB"));
      }
      sizesKnown &= bytes != null;
      totalBytes += bytes == null ? 0 : bytes;
    }
    List<Integer> missing = new ArrayList<>();
    for (int core = 0; core < cores && missing.size() < 8; core++) {
      if (!nodeOfCore.containsKey(core)) {
        missing.add(core);
      }
    }
    if (!missing.isEmpty()) {
      problems.add(
          ConfigProblem.expected(
              "/numaNodes",
              "cores " + missing + (missing.size() == 8 ? "..." : "") + " in no node",
              "every core from 0 to " + (cores - 1) + " in one node"));
    }
    JsonNode memory = root.get("memoryBytes");
    Long machineBytes =
        memory == null || !(memory.isIntegralNumber() || memory.isTextual())
            ? null
            : size(memory, "/memoryBytes", new ArrayList<>());
    if (sizesKnown && machineBytes != null && nodes.size() > 0 && totalBytes != machineBytes) {
      problems.add(
          ConfigProblem.expected(
              "/numaNodes",
              "nodes with " + ByteSize.format(totalBytes) + " of memory in all",
              "their memory adding up to /memoryBytes, " + ByteSize.format(machineBytes)));
    }
  }

  /** Parses a size, reporting a value that is not one; null when not a size. */
  private static Long size(JsonNode node, String pointer, List<ConfigProblem> problems) {
    try {
      Object value =
          node.isNumber()
              ? node.numberValue()
              : node.isTextual() ? node.textValue() : node.toString();
      if (node.isBoolean() || node.isContainerNode() || node.isNull()) {
        throw new IllegalArgumentException("not a size");
      }
      return ByteSize.parse(value);
    } catch (IllegalArgumentException e) {
      problems.add(
          ConfigProblem.expected(pointer, JsonSupport.describe(node), SchemaCheck.SIZE_TEXT));
      return null;
    }
  }

  private static void checkTlb(JsonNode root, List<ConfigProblem> problems) {
    JsonNode levels = root.path("tlb").get("levels");
    if (levels == null || !levels.isArray()) {
      return;
    }
    Map<String, Integer> names = new HashMap<>();
    boolean instruction = false;
    boolean data = false;
    boolean allServesKnown = true;
    for (int i = 0; i < levels.size(); i++) {
      JsonNode level = levels.get(i);
      String at = Pointers.child("/tlb/levels", i);
      if (!level.isObject()) {
        allServesKnown = false;
        continue;
      }
      JsonNode entries = level.get("entries");
      JsonNode ways = level.get("ways");
      if (isPositiveInt(entries) && isPositiveInt(ways) && entries.asLong() % ways.asLong() != 0) {
        problems.add(
            ConfigProblem.expected(at + "/ways", ways.toString(), "divides entries " + entries));
      }
      JsonNode name = level.get("name");
      if (name != null && name.isTextual()) {
        Integer previous = names.putIfAbsent(name.textValue(), i);
        if (previous != null) {
          problems.add(
              ConfigProblem.expected(
                  at + "/name",
                  JsonSupport.describe(name),
                  "a name no other level uses (level " + previous + " is also " + name + ")"));
        }
      }
      JsonNode serves = level.get("serves");
      String s = serves != null && serves.isTextual() ? serves.textValue() : "";
      switch (s) {
        case "instruction" -> instruction = true;
        case "data" -> data = true;
        case "unified" -> {
          instruction = true;
          data = true;
        }
        default -> allServesKnown = false;
      }
      checkPageSizes(level.get("pageSizes"), at + "/pageSizes", problems);
    }
    if (allServesKnown && !levels.isEmpty()) {
      if (!instruction) {
        problems.add(
            new ConfigProblem(
                "/tlb/levels",
                "no level serves instruction fetches "
                    + "(expected: at least one level with \"serves\": \"instruction\" or \"unified\")"));
      }
      if (!data) {
        problems.add(
            new ConfigProblem(
                "/tlb/levels",
                "no level serves data accesses "
                    + "(expected: at least one level with \"serves\": \"data\" or \"unified\")"));
      }
    }
  }

  private static void checkPageSizes(JsonNode sizes, String at, List<ConfigProblem> problems) {
    if (sizes == null || !sizes.isArray()) {
      return;
    }
    Set<Long> seen = new HashSet<>();
    for (int j = 0; j < sizes.size(); j++) {
      JsonNode node = sizes.get(j);
      String pointer = Pointers.child(at, j);
      Long bytes = size(node, pointer, problems);
      if (bytes == null) {
        continue;
      }
      if (bytes < 4096 || Long.bitCount(bytes) != 1) {
        problems.add(
            ConfigProblem.expected(
                pointer, JsonSupport.describe(node), "a power of two, at least 4KiB"));
      } else if (!seen.add(bytes)) {
        problems.add(
            ConfigProblem.expected(
                pointer,
                JsonSupport.describe(node),
                "each page size once (" + ByteSize.format(bytes) + " is listed twice)"));
      }
    }
  }

  private static void checkWalker(JsonNode root, int tableLevels, List<ConfigProblem> problems) {
    JsonNode walker = root.get("walker");
    if (walker == null || !walker.isObject() || tableLevels < 1) {
      return;
    }
    String isa = root.get("isa").textValue().toLowerCase(Locale.ROOT);
    JsonNode refs = walker.get("memoryRefCycles");
    if (refs != null && refs.isArray() && refs.size() > tableLevels) {
      problems.add(
          ConfigProblem.expected(
              "/walker/memoryRefCycles",
              "an array of " + refs.size() + " items",
              "at most " + tableLevels + " items, one per " + isa + " table level"));
    }
    JsonNode caches = walker.get("walkCaches");
    if (caches == null || !caches.isArray()) {
      return;
    }
    Map<Integer, Integer> seen = new HashMap<>();
    for (int i = 0; i < caches.size(); i++) {
      JsonNode level = caches.get(i).get("level");
      if (level == null || !level.canConvertToInt() || !level.isIntegralNumber()) {
        continue;
      }
      String at = Pointers.child("/walker/walkCaches", i) + "/level";
      int value = level.intValue();
      if (value < 0) {
        continue; // the schema reports it
      }
      if (value > tableLevels - 2) {
        problems.add(
            ConfigProblem.expected(
                at,
                level.toString(),
                "a table level from 0 to "
                    + (tableLevels - 2)
                    + "; level "
                    + (tableLevels - 1)
                    + " is the "
                    + isa
                    + " leaf level"));
      }
      Integer previous = seen.putIfAbsent(value, i);
      if (previous != null) {
        problems.add(
            ConfigProblem.expected(
                at,
                level.toString(),
                "each level at most once (walk cache "
                    + previous
                    + " is also level "
                    + value
                    + ")"));
      }
    }
  }

  private static void checkProvenance(JsonNode root, List<ConfigProblem> problems) {
    JsonNode provenance = root.get("provenance");
    if (provenance == null || !provenance.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> entry : provenance.properties()) {
      String key = entry.getKey();
      String at = Pointers.child("/provenance", key);
      if (!key.startsWith("/")) {
        problems.add(
            ConfigProblem.expected(
                at, "\"" + key + "\"", "a JSON pointer such as /tlb/levels/0/entries"));
      } else if (key.equals("/provenance")
          || key.startsWith("/provenance/")
          || JsonSupport.find(root, key) == null) {
        problems.add(
            ConfigProblem.expected(
                at, "no such value", "a JSON pointer to a value in this config"));
      }
      JsonNode value = entry.getValue();
      if (value.isTextual() && !PROVENANCE_TAG.matcher(value.textValue()).find()) {
        problems.add(
            ConfigProblem.expected(
                at,
                JsonSupport.describe(value),
                "a string starting with a provenance tag D, M, X, E or R"));
      }
    }
  }

  private static boolean isPositiveInt(JsonNode node) {
    return node != null && node.isIntegralNumber() && node.canConvertToLong() && node.asLong() > 0;
  }
}
