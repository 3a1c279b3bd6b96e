package org.mmuemu.configs;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeSet;
import org.mmuemu.core.config.ConfigProblem;

/**
 * One of the module's JSON Schemas (Draft 2020-12, networknt json-schema-validator 2.0), with its
 * errors turned into {@link ConfigProblem}s in the project's form: {@code /cores: "eight"
 * (expected: an integer)}, {@code /foo: unknown key (expected one of: ...)}.
 *
 * <p>The schemas are compiled once per class loader; validation is thread-safe.
 */
final class SchemaCheck {
  static final String MACHINE_RESOURCE = "org/mmuemu/configs/schema/machine.schema.json";
  static final String RESULT_RESOURCE = "org/mmuemu/configs/schema/result.schema.json";
  static final String SCENARIO_RESOURCE = "org/mmuemu/configs/schema/scenario.schema.json";

  static final String SIZE_TEXT = "a size such as 4096, \"64KiB\" or \"2MiB\"";

  /** Human wording for the schemas' regular expressions. */
  private static final Map<String, String> PATTERN_TEXT =
      Map.of(
          "^[A-Za-z0-9][A-Za-z0-9._-]*$",
              "a name of letters, digits, '.', '_' and '-', starting with a letter or digit",
          "^\\s*[0-9]+\\s*([KkMmGgTt]([Ii]?[Bb])?|[Bb])?\\s*$", SIZE_TEXT,
          "^[DMXER]([^A-Za-z]|$)", "a string starting with a provenance tag D, M, X, E or R",
          "^0x[0-9a-fA-F]+$", "a hex address such as 0x7f0000001000",
          "^[0-9a-f]{64}$", "64 lower-case hex digits");

  private final JsonNode schemaNode;
  private final Schema schema;

  private SchemaCheck(String resource) {
    try (InputStream in = SchemaCheck.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("schema resource missing from the classpath: " + resource);
      }
      this.schemaNode =
          JsonSupport.STRICT.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    this.schema = registry.getSchema(schemaNode);
    this.schema.initializeValidators();
  }

  private static final class MachineHolder {
    static final SchemaCheck INSTANCE = new SchemaCheck(MACHINE_RESOURCE);
  }

  private static final class ResultHolder {
    static final SchemaCheck INSTANCE = new SchemaCheck(RESULT_RESOURCE);
  }

  private static final class ScenarioHolder {
    static final SchemaCheck INSTANCE = new SchemaCheck(SCENARIO_RESOURCE);
  }

  /** The race scenario schema. */
  static SchemaCheck scenario() {
    return ScenarioHolder.INSTANCE;
  }

  /** The machine config schema. */
  static SchemaCheck machine() {
    return MachineHolder.INSTANCE;
  }

  /** The run result schema. */
  static SchemaCheck result() {
    return ResultHolder.INSTANCE;
  }

  /** The schema document itself. */
  JsonNode schemaNode() {
    return schemaNode;
  }

  /** Validates a document and returns every problem, in the schema validator's order. */
  List<ConfigProblem> validate(JsonNode document) {
    List<ConfigProblem> problems = new ArrayList<>();
    for (Error error : schema.validate(document)) {
      problems.add(toProblem(error));
    }
    return problems;
  }

  private ConfigProblem toProblem(Error error) {
    String at = pointer(error.getInstanceLocation());
    JsonNode found = error.getInstanceNode();
    JsonNode keywordValue = error.getSchemaNode();
    String schemaPointer = pointer(error.getSchemaLocation().getFragment());
    String keyword = error.getKeyword() == null ? "" : error.getKeyword();
    switch (keyword) {
      case "type":
        return ConfigProblem.expected(at, JsonSupport.describe(found), typeText(keywordValue));
      case "required":
        {
          String key = error.getProperty();
          JsonNode owner = JsonSupport.find(schemaNode, parent(schemaPointer));
          JsonNode property = owner == null ? null : owner.path("properties").get(key);
          return ConfigProblem.expected(
              Pointers.child(at, key), "missing", expectation(property) + ", required");
        }
      case "additionalProperties":
        {
          String key = error.getProperty();
          JsonNode owner = JsonSupport.find(schemaNode, parent(schemaPointer));
          TreeSet<String> known =
              new TreeSet<>(JsonSupport.keys(owner == null ? null : owner.get("properties")));
          return new ConfigProblem(
              Pointers.child(at, key),
              "unknown key (expected one of: " + String.join(", ", known) + ")");
        }
      case "enum":
        return ConfigProblem.expected(
            at, JsonSupport.describe(found), "one of " + listText(keywordValue));
      case "const":
        return ConfigProblem.expected(at, JsonSupport.describe(found), valueText(keywordValue));
      case "minimum":
        return ConfigProblem.expected(at, JsonSupport.describe(found), "at least " + keywordValue);
      case "maximum":
        return ConfigProblem.expected(at, JsonSupport.describe(found), "at most " + keywordValue);
      case "exclusiveMinimum":
        return ConfigProblem.expected(at, JsonSupport.describe(found), "more than " + keywordValue);
      case "exclusiveMaximum":
        return ConfigProblem.expected(at, JsonSupport.describe(found), "less than " + keywordValue);
      case "minItems":
        return ConfigProblem.expected(
            at, items(found), "at least " + keywordValue + " " + plural(keywordValue, "item"));
      case "maxItems":
        return ConfigProblem.expected(
            at, items(found), "at most " + keywordValue + " " + plural(keywordValue, "item"));
      case "minLength":
        return ConfigProblem.expected(
            at,
            JsonSupport.describe(found),
            keywordValue.asInt() == 1
                ? "a non-empty string"
                : "at least " + keywordValue + " characters");
      case "pattern":
        {
          String text = PATTERN_TEXT.get(keywordValue.asText());
          return ConfigProblem.expected(
              at,
              JsonSupport.describe(found),
              text != null ? text : "a string matching " + keywordValue.asText());
        }
      default:
        return ConfigProblem.expected(at, JsonSupport.describe(found), error.getMessage());
    }
  }

  /** Says what a property schema expects, following one local {@code $ref}. */
  private String expectation(JsonNode property) {
    if (property == null) {
      return "a value";
    }
    JsonNode ref = property.get("$ref");
    if (ref != null && ref.isTextual() && ref.asText().startsWith("#")) {
      if (ref.asText().equals("#/$defs/size")) {
        return SIZE_TEXT;
      }
      JsonNode target = JsonSupport.find(schemaNode, ref.asText().substring(1));
      if (target != null) {
        property = target;
      }
    }
    if (property.has("type")) {
      return typeText(property.get("type"));
    }
    if (property.has("enum")) {
      return "one of " + listText(property.get("enum"));
    }
    return "a value";
  }

  private static String typeText(JsonNode type) {
    if (type == null) {
      return "a value";
    }
    if (type.isArray()) {
      StringJoiner joiner = new StringJoiner(" or ");
      type.forEach(t -> joiner.add(typeName(t.asText())));
      return joiner.toString();
    }
    return typeName(type.asText());
  }

  private static String typeName(String type) {
    return switch (type) {
      case "integer" -> "an integer";
      case "number" -> "a number";
      case "string" -> "a string";
      case "boolean" -> "true or false";
      case "object" -> "an object";
      case "array" -> "an array";
      case "null" -> "null";
      default -> type;
    };
  }

  private static String listText(JsonNode values) {
    StringJoiner joiner = new StringJoiner(", ");
    values.forEach(v -> joiner.add(valueText(v)));
    return joiner.toString();
  }

  private static String valueText(JsonNode value) {
    return value.isTextual() ? value.textValue() : value.toString();
  }

  private static String items(JsonNode array) {
    if (array == null || !array.isArray()) {
      return JsonSupport.describe(array);
    }
    return "an array of " + array.size() + " " + plural(array.size(), "item");
  }

  private static String plural(Object count, String noun) {
    return String.valueOf(count).equals("1") ? noun : noun + "s";
  }

  private static String parent(String pointer) {
    int slash = pointer.lastIndexOf('/');
    return slash <= 0 ? "" : pointer.substring(0, slash);
  }

  /** Builds an RFC 6901 pointer from a validator path, element by element. */
  static String pointer(NodePath path) {
    if (path == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < path.getNameCount(); i++) {
      Object element = path.getElement(i);
      sb.append('/');
      sb.append(
          element instanceof Integer index
              ? index.toString()
              : Pointers.escape(String.valueOf(element)));
    }
    return sb.toString();
  }
}
