package org.mmuemu.configs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.mem.HostMemoryBudget;

/**
 * Loads machine configs: built-in ones shipped in {@code configs/machines/} (on the classpath under
 * {@code org/mmuemu/configs/machines/}), files, and inline JSON; resolves {@code extends}, applies
 * {@code --set} overrides, validates, and binds a {@link MachineSpec}.
 *
 * <p>Validation reports every problem at once, one line each, in the form {@code
 * /tlb/levels/2/ways: 7 (expected: divides entries 1280)}: first the JSON Schema ({@code
 * configs/schema/machine.schema.json}: types, required keys, unknown keys, enums, ranges), then
 * semantic checks (ways divide entries, unique level names, instruction and data both served, page
 * sizes powers of two from 4KiB, memory size, the ISA id against the {@link IsaRegistry}, the ISA
 * section only for the machine's ISA and checked by its provider, the kernel section checked by
 * {@code KernelConfig}, walk caches against the ISA's levels, provenance pointers and tags). Where
 * the schema and a semantic check flag the same pointer, only the semantic (more specific) message
 * is kept. Problems outside the resolved document are labelled by their source instead of a
 * pointer: {@code arm64.json: line 3, column 7: ...}, {@code base.json: /extends: ...} for a parent
 * file, {@code --set cores: ...} for a bad flag.
 *
 * <p>Typical use: {@code LoadedMachine m = loader.load("arm64-neoverse-n1", List.of("/cores=16"));}
 * then build the machine from {@code m.spec()} and write {@code m.resolvedJson()} beside the
 * result. Immutable and thread-safe: one loader can serve concurrent requests.
 */
public final class MachineConfigLoader {
  private static final String INDEX_RESOURCE = ConfigResolver.MACHINES_RESOURCE_DIR + "index.txt";
  private static final List<String> BUILT_IN_NAMES = readIndex(INDEX_RESOURCE);

  private final IsaRegistry registry;
  private final ConfigResolver resolver = new ConfigResolver(BUILT_IN_NAMES);

  /**
   * Creates a loader.
   *
   * @param registry the ISAs a config may name; usually {@link IsaRegistry#load()}
   */
  public MachineConfigLoader(IsaRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** Loads a config without overrides; see {@link #load(String, List)}. */
  public LoadedMachine load(String nameOrPath) {
    return load(nameOrPath, List.of());
  }

  /**
   * Loads a built-in machine by name, or else a config file by path.
   *
   * @param nameOrPath a name from {@link #builtInMachineNames()}, or a file path (relative to the
   *     working directory)
   * @param setOverrides {@code --set} values, applied in order: {@code /json/pointer=value}, the
   *     value parsed as JSON or else taken as a string ({@code /cores=16}, {@code
   *     /memoryBytes=16GiB}, {@code /tlb/levels/2/ways=8}); {@code null} removes a member
   * @throws ConfigException listing every problem found
   */
  public LoadedMachine load(String nameOrPath, List<String> setOverrides) {
    return loadSource(sourceOf(nameOrPath), setOverrides);
  }

  /**
   * Loads a config given as JSON text (from the control port). Its {@code extends} may name a
   * built-in machine only: an inline config never reads files of the server.
   *
   * @throws ConfigException listing every problem found
   */
  public LoadedMachine loadInline(String json, List<String> setOverrides) {
    return loadSource(
        new ConfigResolver.Inline(Objects.requireNonNull(json, "json")), setOverrides);
  }

  /**
   * Returns every problem of a config, or an empty list when it loads; never throws for bad input.
   */
  public List<ConfigProblem> validate(String nameOrPath) {
    return validate(nameOrPath, List.of());
  }

  /** Like {@link #validate(String)}, after applying {@code --set} overrides. */
  public List<ConfigProblem> validate(String nameOrPath, List<String> setOverrides) {
    try {
      return process(sourceOf(nameOrPath), setOverrides).problems;
    } catch (ConfigException e) {
      return e.problems();
    }
  }

  /** The built-in machine names, sorted. */
  public List<String> builtInMachineNames() {
    return BUILT_IN_NAMES;
  }

  /**
   * Returns the {@code description} of a built-in machine.
   *
   * @throws IllegalArgumentException naming the built-in machines when {@code name} is not one
   */
  public String builtInMachineDescription(String name) {
    if (!BUILT_IN_NAMES.contains(name)) {
      throw new IllegalArgumentException(
          "machine: " + name + " (expected one of: " + String.join(", ", BUILT_IN_NAMES) + ")");
    }
    List<ConfigProblem> problems = new ArrayList<>();
    ObjectNode node = resolver.resolve(new ConfigResolver.BuiltIn(name), problems);
    if (node == null) {
      throw new ConfigException(problems);
    }
    return node.path("description").asText("");
  }

  /** Returns whether {@code name} is a built-in machine. */
  public boolean isBuiltIn(String name) {
    return BUILT_IN_NAMES.contains(name);
  }

  private ConfigResolver.Source sourceOf(String nameOrPath) {
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    if (BUILT_IN_NAMES.contains(nameOrPath)) {
      return new ConfigResolver.BuiltIn(nameOrPath);
    }
    Path path = existingFile(nameOrPath, "machine", "config", BUILT_IN_NAMES);
    return new ConfigResolver.FileSource(path);
  }

  private LoadedMachine loadSource(ConfigResolver.Source source, List<String> setOverrides) {
    Outcome outcome = process(source, setOverrides);
    if (!outcome.problems.isEmpty()) {
      throw new ConfigException(outcome.problems);
    }
    return outcome.machine;
  }

  /** The result of one load: either problems, or a machine. */
  private record Outcome(List<ConfigProblem> problems, LoadedMachine machine) {}

  private Outcome process(ConfigResolver.Source source, List<String> setOverrides) {
    List<ConfigProblem> early = new ArrayList<>();
    ObjectNode merged = resolver.resolve(source, early);
    if (merged == null) {
      return new Outcome(early, null);
    }
    ConfigResolver.applyOverrides(merged, List.copyOf(setOverrides), early);
    List<ConfigProblem> schemaProblems = SchemaCheck.machine().validate(merged);
    List<ConfigProblem> semanticProblems = MachineChecks.check(merged, registry);
    List<ConfigProblem> problems = combine(early, schemaProblems, semanticProblems);
    if (!problems.isEmpty()) {
      return new Outcome(problems, null);
    }
    String isaId = registry.get(merged.get("isa").textValue()).id();
    ObjectNode resolved = MachineBinder.resolved(merged, isaId);
    MachineSpec spec;
    try {
      spec = MachineBinder.bind(resolved, isaId);
    } catch (IllegalArgumentException e) {
      // Every constructor check is also a validation check, so this is a bug; still no stack trace.
      return new Outcome(
          List.of(new ConfigProblem(source.label(), "rejected while binding: " + e.getMessage())),
          null);
    }
    // Checked against the bound machine: the cost depends on memory, cores and TLB sizes together.
    ConfigProblem overBudget = HostMemoryBudget.problemWith(spec, HostMemoryBudget.budgetBytes());
    if (overBudget != null) {
      return new Outcome(List.of(overBudget), null);
    }
    String canonical = JsonSupport.canonical(resolved);
    LoadedMachine machine =
        new LoadedMachine(
            spec,
            sourceName(source),
            JsonSupport.sha256Hex(canonical),
            JsonSupport.pretty(resolved),
            JsonSupport.stringMap(resolved.get("provenance")));
    return new Outcome(List.of(), machine);
  }

  /**
   * The file {@code nameOrPath} names, when it is a regular file.
   *
   * @param what what the built-ins are ({@code machine}, {@code scenario})
   * @param fileKind what the file would be ({@code config}, {@code scenario})
   * @throws ConfigException naming the built-ins when there is no such file
   */
  static Path existingFile(
      String nameOrPath, String what, String fileKind, List<String> builtInNames) {
    Path path;
    try {
      path = Path.of(nameOrPath);
    } catch (InvalidPathException e) {
      path = null;
    }
    if (path == null || nameOrPath.isEmpty() || !Files.isRegularFile(path)) {
      throw new ConfigException(
          List.of(
              new ConfigProblem(
                  nameOrPath.isEmpty() ? "\"\"" : nameOrPath,
                  "no such built-in "
                      + what
                      + " or file (expected: a built-in "
                      + what
                      + " name ("
                      + String.join(", ", builtInNames)
                      + ") or a path to a "
                      + fileKind
                      + " file)")));
    }
    return path;
  }

  private static String sourceName(ConfigResolver.Source source) {
    return source instanceof ConfigResolver.BuiltIn builtIn ? builtIn.name() : source.label();
  }

  /**
   * Orders and de-duplicates problems: source-labelled problems (syntax, {@code --set}) first as
   * found, then pointer problems in document order; a schema problem is dropped where a semantic
   * check reported the same pointer, and identical lines appear once.
   */
  static List<ConfigProblem> combine(
      List<ConfigProblem> early, List<ConfigProblem> schema, List<ConfigProblem> semantic) {
    Set<String> semanticPointers =
        semantic.stream().map(ConfigProblem::pointer).collect(Collectors.toSet());
    List<ConfigProblem> pointerProblems = new ArrayList<>();
    List<ConfigProblem> labelled = new ArrayList<>();
    for (ConfigProblem p : early) {
      (isPointer(p.pointer()) ? pointerProblems : labelled).add(p);
    }
    for (ConfigProblem p : schema) {
      if (!semanticPointers.contains(p.pointer())) {
        pointerProblems.add(p);
      }
    }
    pointerProblems.addAll(semantic);
    // Stable sort: problems at one pointer keep the order they were found in.
    pointerProblems.sort(Comparator.comparing(ConfigProblem::pointer, Pointers.ORDER));
    LinkedHashSet<ConfigProblem> unique = new LinkedHashSet<>(labelled);
    unique.addAll(pointerProblems);
    return List.copyOf(unique);
  }

  private static boolean isPointer(String pointer) {
    return pointer.isEmpty() || pointer.startsWith("/");
  }

  /** The names an index resource lists (one a line, {@code #} comments), sorted. */
  static List<String> readIndex(String resource) {
    try (InputStream in =
        MachineConfigLoader.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("built-in index missing from the classpath: " + resource);
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      return reader
          .lines()
          .map(String::trim)
          .filter(line -> !line.isEmpty() && !line.startsWith("#"))
          .sorted()
          .distinct()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }
}
