package org.mmuemu.configs;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mmuemu.core.config.ConfigProblem;

/**
 * The Jackson set-up shared by the configs module: a strict reader (duplicate keys and trailing
 * content are errors), the project's pretty printer (2-space indent, {@code "key": value}, one
 * array element per line, {@code "\n"} line ends on every platform), canonical compact output with
 * sorted keys, and conversion of JSON trees to the plain Java values {@link
 * org.mmuemu.core.config.ConfigSection} reads. Stateless and thread-safe.
 */
final class JsonSupport {
  private JsonSupport() {}

  /** Reads JSON strictly; thread-safe once configured. */
  static final ObjectMapper STRICT =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private static final ObjectWriter COMPACT = STRICT.writer();

  private static final Pattern SOURCE_LOCATION =
      Pattern.compile("\\s*\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]");

  /**
   * The project's pretty printer: 2 spaces, {@code "\n"}, {@code "key": value}, {@code []}, {@code
   * {}}.
   */
  static DefaultPrettyPrinter prettyPrinter() {
    DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
    Separators separators =
        Separators.createDefaultInstance()
            .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
            .withObjectEmptySeparator("")
            .withArrayEmptySeparator("");
    return new DefaultPrettyPrinter(separators)
        .withObjectIndenter(indenter)
        .withArrayIndenter(indenter);
  }

  /** Signals a document that is not well-formed JSON; carries the problem line. */
  static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;
    final transient ConfigProblem problem;

    SyntaxException(ConfigProblem problem) {
      super(problem.toString(), null, false, false);
      this.problem = problem;
    }
  }

  /**
   * Parses a document.
   *
   * @param label names the document in the problem ({@code arm64.json: line 3, column 7: ...})
   * @throws SyntaxException naming the line and column of the first syntax error
   */
  static JsonNode parse(String text, String label) throws SyntaxException {
    try {
      JsonNode node = STRICT.readTree(text);
      if (node == null || node.isMissingNode()) {
        throw new SyntaxException(
            new ConfigProblem(label, "line 1, column 1: empty document (expected: a JSON object)"));
      }
      return node;
    } catch (JsonProcessingException e) {
      JsonLocation where = e.getLocation();
      String message = firstLine(e.getOriginalMessage());
      Matcher m = SOURCE_LOCATION.matcher(message);
      message = m.replaceAll(" (line $1, column $2)").trim();
      String place =
          where == null
              ? ""
              : "line " + where.getLineNr() + ", column " + where.getColumnNr() + ": ";
      throw new SyntaxException(new ConfigProblem(label, place + message));
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "malformed JSON";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** Renders a value as it appeared in JSON, for messages: strings quoted, containers named. */
  static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "missing";
    }
    if (node.isObject()) {
      return "an object";
    }
    if (node.isArray()) {
      return "an array";
    }
    return node.toString();
  }

  /** Returns the node at {@code pointer}, or null when there is none. */
  static JsonNode find(JsonNode root, String pointer) {
    List<String> segments;
    try {
      segments = Pointers.segments(pointer);
    } catch (IllegalArgumentException e) {
      return null;
    }
    JsonNode current = root;
    for (String segment : segments) {
      if (current == null) {
        return null;
      }
      if (current.isObject()) {
        current = current.get(segment);
      } else if (current.isArray()) {
        int index = Pointers.index(segment);
        current = index < 0 ? null : current.get(index);
      } else {
        return null;
      }
    }
    return current;
  }

  /** Returns a copy with every object's keys sorted, recursively. */
  static JsonNode sorted(JsonNode node) {
    if (node.isObject()) {
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      List<String> names = keys(node);
      Collections.sort(names);
      for (String name : names) {
        out.set(name, sorted(node.get(name)));
      }
      return out;
    }
    if (node.isArray()) {
      var out = JsonNodeFactory.instance.arrayNode();
      for (JsonNode element : node) {
        out.add(sorted(element));
      }
      return out;
    }
    return node;
  }

  /** The canonical form: keys sorted, no whitespace. */
  static String canonical(JsonNode node) {
    try {
      return COMPACT.writeValueAsString(sorted(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  /** Pretty JSON with the project's printer and a trailing newline. */
  static String pretty(JsonNode node) {
    try {
      return STRICT.writer(prettyPrinter()).writeValueAsString(node) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  /** SHA-256 of the UTF-8 bytes, lower-case hex. */
  static String sha256Hex(String text) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM provides SHA-256", e);
    }
  }

  /**
   * Converts a tree to plain Java values: unmodifiable {@code Map<String, Object>} (insertion
   * order) and {@code List<Object>}, {@code String}, {@code Integer}/{@code Long}/ {@code
   * BigInteger}, {@code Double}, {@code Boolean}, and null.
   */
  static Object toPlain(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        map.put(e.getKey(), toPlain(e.getValue()));
      }
      return Collections.unmodifiableMap(map);
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      for (JsonNode element : node) {
        list.add(toPlain(element));
      }
      return Collections.unmodifiableList(list);
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isNumber()) {
      return node.numberValue();
    }
    return node.toString();
  }

  /** Converts an object node to a plain map (empty for null or a non-object). */
  @SuppressWarnings("unchecked")
  static Map<String, Object> toPlainMap(JsonNode node) {
    return node != null && node.isObject() ? (Map<String, Object>) toPlain(node) : Map.of();
  }

  /** Returns the keys of an object in order. */
  static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    if (node != null) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        keys.add(e.getKey());
      }
    }
    return keys;
  }

  /** A sorted view of an object of strings (non-strings skipped). */
  static Map<String, String> stringMap(JsonNode node) {
    Map<String, String> out = new TreeMap<>();
    if (node != null && node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (e.getValue().isTextual()) {
          out.put(e.getKey(), e.getValue().textValue());
        }
      }
    }
    return out;
  }
}
