package org.mmuemu.configs;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.scenario.Scenario;
import org.mmuemu.kernel.scenario.ScenarioOps;
import org.mmuemu.kernel.scenario.ScenarioStep;

/**
 * Loads race scenarios: built-in ones shipped in {@code configs/scenarios/} (on the classpath under
 * {@code org/mmuemu/configs/scenarios/}) and files. A file is checked against {@code
 * configs/schema/scenario.schema.json}, then each step against its operation's arguments ({@link
 * ScenarioOps}), every name a step uses against the names steps create, the order's CPUs against
 * the programs, and the expected kinds against the oracle's; every problem is reported at once, one
 * line each, labelled by the file and a JSON pointer ({@code race.json: /programs/1/0/op: "vfre"
 * (expected one of: ...)}).
 *
 * <p>Stateless; thread-safe.
 */
public final class ScenarioLoader {
  static final String RESOURCE_DIR = "org/mmuemu/configs/scenarios/";
  private static final List<String> BUILT_IN_NAMES =
      MachineConfigLoader.readIndex(RESOURCE_DIR + "index.txt");

  /** The variants every scenario has. */
  public static final List<String> VARIANTS = List.of("buggy", "fixed");

  /** A scenario and where its relative machine path resolves from. */
  public record LoadedScenario(Scenario scenario, Path directory) {}

  /** The built-in scenario names, sorted. */
  public static List<String> builtInNames() {
    return BUILT_IN_NAMES;
  }

  /**
   * Loads a built-in scenario by name, or else a scenario file by path.
   *
   * @throws ConfigException listing every problem found
   */
  public static LoadedScenario load(String nameOrPath) {
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    if (BUILT_IN_NAMES.contains(nameOrPath)) {
      String resource = RESOURCE_DIR + nameOrPath + ".json";
      try (InputStream in = ScenarioLoader.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("built-in scenario missing: " + resource);
        }
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        return new LoadedScenario(parse(text, nameOrPath, nameOrPath + ".json"), null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Path path =
        MachineConfigLoader.existingFile(nameOrPath, "scenario", "scenario", BUILT_IN_NAMES);
    String text;
    try {
      if (Files.size(path) > (4L << 20)) {
        throw new ConfigException(
            List.of(
                new ConfigProblem(path.toString(), "larger than 4 MiB (expected: a scenario)")));
      }
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(
          List.of(new ConfigProblem(path.toString(), "cannot read (" + e.getMessage() + ")")));
    }
    String file = path.getFileName().toString();
    String name = file.endsWith(".json") ? file.substring(0, file.length() - 5) : file;
    Path directory = path.toAbsolutePath().getParent();
    return new LoadedScenario(parse(text, name, path.toString()), directory);
  }

  /** The description of a built-in scenario. */
  public static String builtInDescription(String name) {
    return load(name).scenario().description();
  }

  /**
   * Loads the machine a scenario runs for {@code variant}: {@code machineOverride} when given, else
   * the scenario's, with the scenario's overrides and the variant's applied.
   *
   * @throws ConfigException listing every problem of the machine
   */
  public static org.mmuemu.configs.LoadedMachine loadMachine(
      IsaRegistry registry, LoadedScenario loaded, String variant, String machineOverride) {
    Scenario scenario = loaded.scenario();
    List<String> sets = new ArrayList<>(scenario.machineSets());
    sets.addAll(scenario.variantSets().getOrDefault(variant, List.of()));
    MachineConfigLoader machines = new MachineConfigLoader(registry);
    if (machineOverride != null) {
      return machines.load(machineOverride, sets);
    }
    if (scenario.inlineMachine() != null) {
      return machines.loadInline(scenario.inlineMachine(), sets);
    }
    String machine = scenario.machine();
    if (!machines.isBuiltIn(machine) && loaded.directory() != null) {
      machine = loaded.directory().resolve(machine).toString();
    }
    return machines.load(machine, sets);
  }

  private static ConfigException problems(String label, List<ConfigProblem> found) {
    List<ConfigProblem> labelled = new ArrayList<>();
    for (ConfigProblem p : found) {
      labelled.add(
          new ConfigProblem(
              label + ": " + (p.pointer().isEmpty() ? "/" : p.pointer()), p.message()));
    }
    return new ConfigException(labelled);
  }

  static Scenario parse(String text, String name, String label) {
    JsonNode root;
    try {
      root = JsonSupport.parse(text, label);
    } catch (JsonSupport.SyntaxException e) {
      throw new ConfigException(List.of(e.problem));
    }
    List<ConfigProblem> problems = new ArrayList<>(SchemaCheck.scenario().validate(root));
    if (!problems.isEmpty()) {
      throw problems(label, MachineConfigLoader.combine(List.of(), problems, List.of()));
    }
    List<ScenarioStep> setup = steps(root.path("setup"), "/setup");
    List<List<ScenarioStep>> programs = new ArrayList<>();
    JsonNode programsNode = root.get("programs");
    for (int cpu = 0; cpu < programsNode.size(); cpu++) {
      programs.add(steps(programsNode.get(cpu), "/programs/" + cpu));
    }
    List<String[]> uses = new ArrayList<>();
    Set<String> defined = new HashSet<>();
    for (ScenarioStep step : setup) {
      addProblems(problems, ScenarioOps.check(step, true));
      ScenarioOps.names(step, uses, defined);
    }
    for (List<ScenarioStep> program : programs) {
      for (ScenarioStep step : program) {
        addProblems(problems, ScenarioOps.check(step, false));
        ScenarioOps.names(step, uses, defined);
      }
    }
    for (String[] use : uses) {
      String kind =
          use[1].equals("process") ? "process:" : use[1].equals("frames") ? "frames:" : "area:";
      if (!defined.contains(kind + use[2])) {
        problems.add(
            ConfigProblem.expected(
                use[0], "\"" + use[2] + "\"", "the name a step creates with \"as\""));
      }
    }
    List<Scenario.OrderStep> order = new ArrayList<>();
    JsonNode orderNode = root.path("order");
    for (int i = 0; i < orderNode.size(); i++) {
      JsonNode entry = orderNode.get(i);
      int cpu = entry.get("cpu").asInt();
      if (cpu >= programs.size()) {
        problems.add(
            ConfigProblem.expected(
                "/order/" + i + "/cpu",
                cpu,
                "a CPU with a program, 0 to " + (programs.size() - 1)));
      }
      order.add(
          new Scenario.OrderStep(
              cpu, entry.get("until").asText(), entry.path("occurrence").asInt(1)));
    }
    Map<String, List<String>> variantSets = new LinkedHashMap<>();
    Map<String, List<String>> expected = new LinkedHashMap<>();
    for (String variant : VARIANTS) {
      JsonNode v = root.get("variants").get(variant);
      variantSets.put(variant, sets(v.path("set")));
      expected.put(variant, kinds(v.get("expect"), "/variants/" + variant + "/expect", problems));
    }
    if (!problems.isEmpty()) {
      throw problems(label, MachineConfigLoader.combine(List.of(), List.of(), problems));
    }
    JsonNode machine = root.get("machine");
    return new Scenario(
        name,
        root.get("description").asText(),
        machine.isTextual() ? machine.asText() : null,
        machine.isObject() ? machine.toString() : null,
        sets(root.path("set")),
        variantSets,
        setup,
        programs,
        order,
        expected);
  }

  private static void addProblems(List<ConfigProblem> problems, List<String> lines) {
    for (String line : lines) {
      int colon = line.indexOf(": ");
      problems.add(new ConfigProblem(line.substring(0, colon), line.substring(colon + 2)));
    }
  }

  private static List<String> kinds(JsonNode expect, String at, List<ConfigProblem> problems) {
    List<String> kinds = new ArrayList<>();
    List<JsonNode> items = new ArrayList<>();
    if (expect.isArray()) {
      expect.forEach(items::add);
    } else if (!expect.asText().equals("none")) {
      items.add(expect);
    }
    for (int i = 0; i < items.size(); i++) {
      String kind = items.get(i).asText();
      try {
        ViolationKind.valueOf(kind);
        kinds.add(kind);
      } catch (IllegalArgumentException e) {
        List<String> names = new ArrayList<>();
        for (ViolationKind k : ViolationKind.values()) {
          names.add(k.name());
        }
        problems.add(
            ConfigProblem.expected(
                expect.isArray() ? at + "/" + i : at,
                "\"" + kind + "\"",
                "none or a violation kind (" + String.join(", ", names) + ")"));
      }
    }
    return kinds;
  }

  private static List<String> sets(JsonNode node) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      out.add(e.getKey() + "=" + e.getValue().toString());
    }
    return out;
  }

  private static List<ScenarioStep> steps(JsonNode array, String at) {
    List<ScenarioStep> steps = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      JsonNode node = array.get(i);
      Map<String, Object> args = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (e.getKey().equals("op")) {
          continue;
        }
        JsonNode value = e.getValue();
        args.put(
            e.getKey(),
            value.isIntegralNumber()
                ? (Object) value.asLong()
                : value.isTextual() ? value.textValue() : value.toString());
      }
      steps.add(new ScenarioStep(node.get("op").asText(), args, at + "/" + i));
    }
    return steps;
  }
}
