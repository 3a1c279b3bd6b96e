package org.mmuemu.configs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigProblem;

/**
 * Turns a config source into one merged JSON object: reads it, follows its {@code extends} chain
 * (built-in names, or paths relative to the extending file), merges parent and child, and applies
 * {@code --set} overrides. Problems are collected, never thrown.
 *
 * <p>Merge rules: objects merge key by key; arrays and scalars replace; a {@code null} in the child
 * removes the inherited member; {@code name} and {@code description} are never inherited; {@code
 * extends} is dropped; inherited {@code provenance} entries for values the child replaces (at or
 * below the replaced pointer) are dropped, and the child's own entries win. Stateless apart from
 * the built-in list; thread-safe.
 */
final class ConfigResolver {
  static final String MACHINES_RESOURCE_DIR = "org/mmuemu/configs/machines/";

  /** Where a config document comes from. */
  sealed interface Source permits BuiltIn, FileSource, Inline {
    /** Names the source in messages. */
    String label();

    /** Identifies the source for cycle detection. */
    String identity();
  }

  /** A machine shipped in {@code machines/}, read from the classpath. */
  record BuiltIn(String name) implements Source {
    @Override
    public String label() {
      return name + ".json";
    }

    @Override
    public String identity() {
      return "built-in:" + name;
    }
  }

  /** A file on disk; {@code path} is as given or as resolved against the extending file. */
  record FileSource(Path path) implements Source {
    @Override
    public String label() {
      return path.toString();
    }

    @Override
    public String identity() {
      try {
        return path.toRealPath().toString();
      } catch (IOException e) {
        return path.toAbsolutePath().normalize().toString();
      }
    }
  }

  /** JSON given as a string (control port); may extend built-in machines only. */
  record Inline(String json) implements Source {
    @Override
    public String label() {
      return "inline config";
    }

    @Override
    public String identity() {
      return "inline";
    }
  }

  private final List<String> builtInNames;

  ConfigResolver(List<String> builtInNames) {
    this.builtInNames = List.copyOf(builtInNames);
  }

  /**
   * Reads and merges a source and its parents.
   *
   * @return the merged object, or null when a problem stopped resolution (then {@code problems}
   *     says why)
   */
  ObjectNode resolve(Source source, List<ConfigProblem> problems) {
    List<Source> chain = new ArrayList<>();
    chain.add(source);
    return resolve(source, true, chain, problems);
  }

  private ObjectNode resolve(
      Source source, boolean top, List<Source> chain, List<ConfigProblem> problems) {
    String text = read(source, problems);
    if (text == null) {
      return null;
    }
    JsonNode node;
    try {
      node = JsonSupport.parse(text, source.label());
    } catch (JsonSupport.SyntaxException e) {
      problems.add(e.problem);
      return null;
    }
    if (!node.isObject()) {
      problems.add(
          new ConfigProblem(
              source.label(), JsonSupport.describe(node) + " (expected: a JSON object)"));
      return null;
    }
    ObjectNode child = (ObjectNode) node;
    JsonNode extendsNode = child.get("extends");
    if (extendsNode == null || extendsNode.isNull()) {
      child.remove("extends");
      return child;
    }
    String where = top ? "/extends" : source.label() + ": /extends";
    if (!extendsNode.isTextual() || extendsNode.textValue().isEmpty()) {
      problems.add(
          ConfigProblem.expected(
              where, JsonSupport.describe(extendsNode), extendsExpectation(source)));
      return null;
    }
    Source parent = locate(source, extendsNode.textValue());
    if (parent == null) {
      problems.add(
          ConfigProblem.expected(
              where, JsonSupport.describe(extendsNode), extendsExpectation(source)));
      return null;
    }
    for (Source earlier : chain) {
      if (earlier.identity().equals(parent.identity())) {
        StringBuilder cycle = new StringBuilder();
        for (Source s : chain) {
          cycle.append(s.label()).append(" extends ");
        }
        cycle.append(parent.label());
        problems.add(
            ConfigProblem.expected(
                where,
                JsonSupport.describe(extendsNode),
                "an extends chain without a cycle, but " + cycle));
        return null;
      }
    }
    chain.add(parent);
    ObjectNode parentNode = resolve(parent, false, chain, problems);
    if (parentNode == null) {
      return null;
    }
    return merge(parentNode, child);
  }

  private String extendsExpectation(Source source) {
    String names = String.join(", ", builtInNames);
    if (source instanceof FileSource) {
      return "a built-in machine name (" + names + ") or a path to a config file";
    }
    if (source instanceof Inline) {
      return "a built-in machine name (" + names + "); an inline config cannot extend files";
    }
    return "a built-in machine name (" + names + ")";
  }

  private Source locate(Source from, String reference) {
    if (builtInNames.contains(reference)) {
      return new BuiltIn(reference);
    }
    if (!(from instanceof FileSource file)) {
      return null;
    }
    try {
      Path path = file.path().resolveSibling(reference).normalize();
      return Files.isRegularFile(path) ? new FileSource(path) : null;
    } catch (InvalidPathException e) {
      return null;
    }
  }

  private static String read(Source source, List<ConfigProblem> problems) {
    if (source instanceof Inline inline) {
      return inline.json();
    }
    if (source instanceof BuiltIn builtIn) {
      String resource = MACHINES_RESOURCE_DIR + builtIn.name() + ".json";
      try (InputStream in = ConfigResolver.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          problems.add(
              new ConfigProblem(
                  source.label(), "missing from the classpath (expected: " + resource + ")"));
          return null;
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        problems.add(new ConfigProblem(source.label(), "cannot be read: " + e.getMessage()));
        return null;
      }
    }
    Path path = ((FileSource) source).path();
    try {
      String text = Files.readString(path, StandardCharsets.UTF_8);
      return text.startsWith("\uFEFF") ? text.substring(1) : text; // editors on Windows write a BOM
    } catch (CharacterCodingException e) {
      problems.add(
          new ConfigProblem(source.label(), "not UTF-8 text (expected: a JSON file in UTF-8)"));
    } catch (IOException e) {
      problems.add(new ConfigProblem(source.label(), "cannot be read: " + e));
    }
    return null;
  }

  /** Merges {@code child} over {@code parent}; neither is modified. */
  static ObjectNode merge(ObjectNode parent, ObjectNode child) {
    ObjectNode result = parent.deepCopy();
    result.remove("name");
    result.remove("description");
    result.remove("extends");
    List<String> replaced = new ArrayList<>();
    for (Map.Entry<String, JsonNode> entry : child.properties()) {
      String key = entry.getKey();
      if (!key.equals("extends") && !key.equals("provenance")) {
        mergeMember(result, key, entry.getValue(), "", replaced);
      }
    }
    JsonNode parentProvenance = parent.get("provenance");
    JsonNode childProvenance = child.get("provenance");
    if (parentProvenance != null
        && parentProvenance.isObject()
        && (childProvenance == null || childProvenance.isObject())) {
      ObjectNode provenance = JsonNodeFactory.instance.objectNode();
      for (Map.Entry<String, JsonNode> entry : parentProvenance.properties()) {
        if (replaced.stream().noneMatch(r -> Pointers.isSameOrUnder(entry.getKey(), r))) {
          provenance.set(entry.getKey(), entry.getValue());
        }
      }
      if (childProvenance != null) {
        for (Map.Entry<String, JsonNode> entry : childProvenance.properties()) {
          if (entry.getValue().isNull()) {
            provenance.remove(entry.getKey());
          } else {
            provenance.set(entry.getKey(), entry.getValue().deepCopy());
          }
        }
      }
      result.set("provenance", provenance);
    } else if (childProvenance != null) {
      mergeMember(result, "provenance", childProvenance, "", replaced);
    }
    return result;
  }

  private static void mergeMember(
      ObjectNode target, String key, JsonNode value, String at, List<String> replaced) {
    String pointer = Pointers.child(at, key);
    JsonNode existing = target.get(key);
    if (value.isNull()) {
      target.remove(key);
      replaced.add(pointer);
    } else if (value.isObject() && existing != null && existing.isObject()) {
      for (Map.Entry<String, JsonNode> entry : value.properties()) {
        mergeMember((ObjectNode) existing, entry.getKey(), entry.getValue(), pointer, replaced);
      }
    } else {
      target.set(key, value.deepCopy());
      replaced.add(pointer);
    }
  }

  /**
   * Applies {@code --set /json/pointer=value} overrides in order. The value is parsed as JSON, else
   * taken as a string; {@code null} removes the member. A missing object member on the way is
   * created. Provenance entries for the replaced value are dropped. Each bad flag adds a problem
   * naming it; the others still apply.
   */
  static void applyOverrides(
      ObjectNode root, List<String> overrides, List<ConfigProblem> problems) {
    for (String flag : overrides) {
      String label = "--set " + flag;
      int eq = flag.indexOf('=');
      if (eq < 0) {
        problems.add(
            new ConfigProblem(label, "no '=' (expected: /json/pointer=value, such as /cores=16)"));
        continue;
      }
      String pointer = flag.substring(0, eq);
      if (pointer.isEmpty() || pointer.charAt(0) != '/') {
        problems.add(
            new ConfigProblem(
                label,
                "\""
                    + pointer
                    + "\" is not a JSON pointer (expected: /json/pointer=value, such as /tlb/levels/2/ways=8)"));
        continue;
      }
      String error = set(root, Pointers.segments(pointer), parseValue(flag.substring(eq + 1)));
      if (error != null) {
        problems.add(new ConfigProblem(label, error));
        continue;
      }
      if (!Pointers.isSameOrUnder(pointer, "/provenance")) {
        JsonNode provenance = root.get("provenance");
        if (provenance != null && provenance.isObject()) {
          List<String> stale =
              JsonSupport.keys(provenance).stream()
                  .filter(key -> Pointers.isSameOrUnder(key, pointer))
                  .toList();
          ((ObjectNode) provenance).remove(stale);
        }
      }
    }
  }

  /** Parses an override value: JSON when it is JSON, else the text itself. */
  static JsonNode parseValue(String text) {
    try {
      JsonNode node = JsonSupport.STRICT.readTree(text);
      return node == null || node.isMissingNode() ? TextNode.valueOf(text) : node;
    } catch (IOException e) {
      return TextNode.valueOf(text);
    }
  }

  /** Sets a value; returns null on success, else what went wrong. */
  private static String set(ObjectNode root, List<String> segments, JsonNode value) {
    JsonNode current = root;
    String at = "";
    for (int i = 0; i < segments.size(); i++) {
      String segment = segments.get(i);
      boolean last = i == segments.size() - 1;
      if (current.isObject()) {
        ObjectNode object = (ObjectNode) current;
        if (last) {
          if (value.isNull()) {
            object.remove(segment);
          } else {
            object.set(segment, value);
          }
          return null;
        }
        JsonNode next = object.get(segment);
        if (next == null || next.isNull()) {
          next = object.putObject(segment);
        }
        current = next;
      } else if (current.isArray()) {
        ArrayNode array = (ArrayNode) current;
        if (last && segment.equals("-")) {
          if (!value.isNull()) {
            array.add(value);
          }
          return null;
        }
        int index = Pointers.index(segment);
        if (index < 0 || index >= array.size()) {
          return Pointers.child(at, segment)
              + " does not exist (expected: "
              + (array.isEmpty() ? "" : "an index from 0 to " + (array.size() - 1) + ", or ")
              + "- to append)";
        }
        if (last) {
          if (value.isNull()) {
            array.remove(index);
          } else {
            array.set(index, value);
          }
          return null;
        }
        current = array.get(index);
      } else {
        return (at.isEmpty() ? "/" : at)
            + " is "
            + JsonSupport.describe(current)
            + " (expected: an object or array to set "
            + Pointers.escape(segment)
            + " in)";
      }
      at = Pointers.child(at, segment);
    }
    return null;
  }
}
