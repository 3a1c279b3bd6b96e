package org.mmuemu.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.mmuemu.app.compare.Column;

/**
 * A comparison described in a file ({@code mmuemu compare --spec compare.json}), for columns that
 * differ by more than the machine:
 *
 * <pre>{@code
 * {"workload": "munmap-storm", "seed": 1, "params": {"iterations": 50},
 *  "columns": [
 *    {"label": "n1", "machine": "arm64-neoverse-n1"},
 *    {"label": "n1-contpte", "machine": "arm64-neoverse-n1",
 *     "sets": {"/kernel/variants/vmapContpte": "on"}, "params": {"threads": 4}}]}
 * }</pre>
 *
 * <p>{@code workload} and {@code columns} are required; {@code seed} defaults to 1. A column's
 * {@code sets} are {@code --set} overrides (JSON pointer to value) and its {@code params} are laid
 * over the shared ones. Unknown keys are errors, reported with their JSON pointer.
 *
 * @param workload the workload every column runs
 * @param seed the seed every column runs with, or null when the file does not say
 * @param params shared workload parameters
 */
record CompareSpec(String workload, Long seed, Map<String, String> params, List<Column> columns) {
  private static final ObjectMapper STRICT =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** Labels name trace files, so they stay file-name safe. */
  static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");

  /**
   * Reads and checks a spec file; relative machine config paths are resolved against the file's
   * directory when such a file exists.
   *
   * @throws UserInputException naming the file and the JSON pointer of each problem
   */
  static CompareSpec read(Path file) throws UserInputException {
    String where = "--spec " + file + ": ";
    JsonNode root;
    try {
      root = parseStrict(where, Files.readString(file));
    } catch (IOException e) {
      throw new UserInputException("--spec " + file + ": cannot read (" + e.getMessage() + ")");
    }
    List<String> problems = new ArrayList<>();
    if (root == null || !root.isObject()) {
      throw new UserInputException(
          where + "/: " + kind(root) + " (expected: an object with workload and columns)");
    }
    unknownKeys(root, "", Set.of("workload", "seed", "params", "columns"), where, problems);
    String workload = text(root, "/workload", where, problems, true);
    Long seed = null;
    if (root.has("seed")) {
      if (root.get("seed").canConvertToLong() && root.get("seed").isIntegralNumber()) {
        seed = root.get("seed").asLong();
      } else {
        problems.add(where + "/seed: " + root.get("seed") + " (expected: an integer)");
      }
    }
    Map<String, String> params = params(root.get("params"), "/params", where, problems);
    List<Column> columns = new ArrayList<>();
    JsonNode columnNodes = root.get("columns");
    if (columnNodes == null || !columnNodes.isArray() || columnNodes.isEmpty()) {
      problems.add(
          where + "/columns: " + kind(columnNodes) + " (expected: a non-empty array of columns)");
    } else {
      Path directory = file.toAbsolutePath().getParent();
      for (int i = 0; i < columnNodes.size(); i++) {
        JsonNode node = columnNodes.get(i);
        String pointer = "/columns/" + i;
        if (!node.isObject()) {
          problems.add(
              where
                  + pointer
                  + ": "
                  + kind(node)
                  + " (expected: an object with label and machine)");
          continue;
        }
        unknownKeys(node, pointer, Set.of("label", "machine", "sets", "params"), where, problems);
        String label = text(node, pointer + "/label", where, problems, true);
        if (label != null && !LABEL.matcher(label).matches()) {
          problems.add(
              where
                  + pointer
                  + "/label: \""
                  + label
                  + "\" (expected: letters, digits, '.', '_', '+', '-', "
                  + "at most 64, starting with a letter or digit)");
        }
        String machine = text(node, pointer + "/machine", where, problems, true);
        if (machine != null && (machine.endsWith(".json") || machine.contains("/"))) {
          Path relative = directory.resolve(machine);
          if (!Path.of(machine).isAbsolute() && Files.exists(relative)) {
            machine = relative.toString();
          }
        }
        List<String> sets = sets(node.get("sets"), pointer + "/sets", where, problems);
        Map<String, String> columnParams =
            params(node.get("params"), pointer + "/params", where, problems);
        if (label != null && machine != null) {
          columns.add(new Column(label, machine, sets, columnParams));
        }
      }
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < columns.size(); i++) {
        if (seen.contains(columns.get(i).label())) {
          problems.add(
              where
                  + "/columns/"
                  + i
                  + "/label: \""
                  + columns.get(i).label()
                  + "\" (expected: a label no other column has)");
        }
        seen.add(columns.get(i).label());
      }
    }
    if (!problems.isEmpty()) {
      throw new UserInputException(problems);
    }
    return new CompareSpec(workload, seed, params, columns);
  }

  /**
   * Parses JSON text that may not repeat a key; a syntax error is reported after {@code where} with
   * its line. Also used by {@link CalibrationTargets}.
   */
  static JsonNode parseStrict(String where, String text) throws UserInputException {
    try {
      return STRICT.readTree(text);
    } catch (JsonProcessingException e) {
      throw new UserInputException(
          where
              + "not valid JSON: "
              + e.getOriginalMessage()
              + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    }
  }

  /**
   * {@code --set} overrides from an object of JSON pointer to value, as {@code /pointer=value};
   * also read by {@link CalibrationTargets}.
   */
  static List<String> sets(JsonNode node, String pointer, String where, List<String> problems) {
    List<String> sets = new ArrayList<>();
    if (node == null) {
      return sets;
    }
    if (!node.isObject()) {
      problems.add(
          where + pointer + ": " + kind(node) + " (expected: an object of JSON pointer to value)");
      return sets;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> set = it.next();
      if (!set.getKey().startsWith("/")) {
        problems.add(
            where
                + pointer
                + "/"
                + escape(set.getKey())
                + ": (expected: a JSON pointer starting with '/')");
      }
      sets.add(set.getKey() + "=" + set.getValue());
    }
    return sets;
  }

  /** Workload parameters from an object of scalars; also read by {@link CalibrationTargets}. */
  static Map<String, String> params(
      JsonNode node, String pointer, String where, List<String> problems) {
    Map<String, String> params = new LinkedHashMap<>();
    if (node == null) {
      return params;
    }
    if (!node.isObject()) {
      problems.add(
          where + pointer + ": " + kind(node) + " (expected: an object of parameter values)");
      return params;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> param = it.next();
      JsonNode value = param.getValue();
      if (value.isValueNode() && !value.isNull()) {
        params.put(param.getKey(), value.asText());
      } else {
        problems.add(
            where
                + pointer
                + "/"
                + escape(param.getKey())
                + ": "
                + kind(value)
                + " (expected: a string, number or boolean)");
      }
    }
    return params;
  }

  private static String text(
      JsonNode parent, String pointer, String where, List<String> problems, boolean required) {
    String key = pointer.substring(pointer.lastIndexOf('/') + 1);
    JsonNode node = parent.get(key);
    if (node == null) {
      if (required) {
        problems.add(where + pointer + ": missing (expected: a string)");
      }
      return null;
    }
    if (!node.isTextual() || node.asText().isBlank()) {
      problems.add(where + pointer + ": " + node + " (expected: a non-empty string)");
      return null;
    }
    return node.asText();
  }

  static void unknownKeys(
      JsonNode node, String pointer, Set<String> known, String where, List<String> problems) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!known.contains(key)) {
        problems.add(
            where
                + pointer
                + "/"
                + escape(key)
                + ": unknown key (expected one of: "
                + String.join(", ", known.stream().sorted().toList())
                + ")");
      }
    }
  }

  static String kind(JsonNode node) {
    if (node == null) {
      return "missing";
    }
    return node.isContainerNode()
        ? node.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
        : node.toString();
  }

  static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }
}
