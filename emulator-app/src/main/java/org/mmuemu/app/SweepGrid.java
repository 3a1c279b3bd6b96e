package org.mmuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep's grid ({@code mmuemu sweep expand --grid sweep.json}):
 *
 * <pre>{@code
 * {"machines": ["arm64-neoverse-n1", "x86-skylake"], "workload": "munmap-storm",
 *  "params": {"threads": [1, 2, 4]}, "variants": {"rmapRemoval": ["delayed", "immediate"]},
 *  "sets": {"/cores": [4, 8]}, "seeds": [1, 2]}
 * }</pre>
 *
 * <p>Every key but {@code machines} and {@code workload} is optional; {@code seeds} defaults to
 * {@code [1]}. A variant is the override {@code /kernel/variants/<name>}. {@link #expand} lists the
 * runs in a fixed order (machines outermost, then params, variants and sets in file order, seeds
 * innermost), so the same grid always gives the same indices.
 *
 * @param axes every swept dimension but the machine, in expansion order
 */
record SweepGrid(List<String> machines, String workload, List<Axis> axes, List<Long> seeds) {

  /** What an axis sets. */
  enum AxisKind {
    PARAM("param"),
    VARIANT("variant"),
    SET("set");

    final String prefix;

    AxisKind(String prefix) {
      this.prefix = prefix;
    }
  }

  /**
   * One swept dimension.
   *
   * @param values as JSON text for sets and variants (so {@code 8} stays a number), as text for
   *     params
   */
  record Axis(AxisKind kind, String name, List<String> values) {
    /** The axis's column name in plans and CSV: {@code param:threads}, {@code set:/cores}. */
    String key() {
      return kind.prefix + ":" + name;
    }
  }

  /** One point of the grid, before any config is loaded. */
  record Point(
      String machine,
      Map<String, String> params,
      List<String> sets,
      long seed,
      Map<String, String> axes) {}

  static SweepGrid read(Path file) throws UserInputException {
    String where = "--grid " + file + ": ";
    JsonNode root;
    try {
      root = CompareSpec.parseStrict(where, Files.readString(file));
    } catch (IOException e) {
      throw new UserInputException("--grid " + file + ": cannot read (" + e.getMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw new UserInputException(where + "/: (expected: an object with machines and workload)");
    }
    List<String> problems = new ArrayList<>();
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!Set.of("machines", "workload", "params", "variants", "sets", "seeds").contains(key)) {
        problems.add(
            where
                + "/"
                + key
                + ": unknown key (expected one of: machines, params, seeds, sets, variants, "
                + "workload)");
      }
    }
    List<String> machines = new ArrayList<>();
    JsonNode machineNodes = root.get("machines");
    if (machineNodes == null || !machineNodes.isArray() || machineNodes.isEmpty()) {
      problems.add(
          where
              + "/machines: "
              + describe(machineNodes)
              + " (expected: a non-empty array of machine names "
              + "or config files)");
    } else {
      for (int i = 0; i < machineNodes.size(); i++) {
        if (machineNodes.get(i).isTextual() && !machineNodes.get(i).asText().isBlank()) {
          machines.add(machineNodes.get(i).asText());
        } else {
          problems.add(
              where
                  + "/machines/"
                  + i
                  + ": "
                  + machineNodes.get(i)
                  + " (expected: a machine name)");
        }
      }
    }
    JsonNode workloadNode = root.get("workload");
    String workload = null;
    if (workloadNode == null || !workloadNode.isTextual() || workloadNode.asText().isBlank()) {
      problems.add(where + "/workload: " + describe(workloadNode) + " (expected: a workload name)");
    } else {
      workload = workloadNode.asText();
    }
    List<Axis> axes = new ArrayList<>();
    axes(root.get("params"), "params", AxisKind.PARAM, where, problems, axes);
    axes(root.get("variants"), "variants", AxisKind.VARIANT, where, problems, axes);
    axes(root.get("sets"), "sets", AxisKind.SET, where, problems, axes);
    List<Long> seeds = new ArrayList<>();
    JsonNode seedNodes = root.get("seeds");
    if (seedNodes == null) {
      seeds.add(1L);
    } else if (!seedNodes.isArray() || seedNodes.isEmpty()) {
      problems.add(
          where + "/seeds: " + describe(seedNodes) + " (expected: a non-empty array of integers)");
    } else {
      for (int i = 0; i < seedNodes.size(); i++) {
        if (seedNodes.get(i).isIntegralNumber() && seedNodes.get(i).canConvertToLong()) {
          seeds.add(seedNodes.get(i).asLong());
        } else {
          problems.add(where + "/seeds/" + i + ": " + seedNodes.get(i) + " (expected: an integer)");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new UserInputException(problems);
    }
    return new SweepGrid(machines, workload, axes, seeds);
  }

  private static void axes(
      JsonNode node,
      String key,
      AxisKind kind,
      String where,
      List<String> problems,
      List<Axis> axes) {
    if (node == null) {
      return;
    }
    if (!node.isObject()) {
      problems.add(
          where
              + "/"
              + key
              + ": "
              + describe(node)
              + " (expected: an object of name to array of values)");
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String pointer = "/" + key + "/" + entry.getKey().replace("~", "~0").replace("/", "~1");
      JsonNode values = entry.getValue();
      if (kind == AxisKind.SET && !entry.getKey().startsWith("/")) {
        problems.add(where + pointer + ": (expected: a JSON pointer starting with '/')");
        continue;
      }
      if (!values.isArray() || values.isEmpty()) {
        problems.add(
            where + pointer + ": " + describe(values) + " (expected: a non-empty array of values)");
        continue;
      }
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < values.size(); i++) {
        JsonNode value = values.get(i);
        if (!value.isValueNode() || value.isNull()) {
          problems.add(
              where
                  + pointer
                  + "/"
                  + i
                  + ": "
                  + describe(value)
                  + " (expected: a string, number or boolean)");
        } else {
          texts.add(kind == AxisKind.PARAM ? value.asText() : value.toString());
        }
      }
      axes.add(new Axis(kind, entry.getKey(), texts));
    }
  }

  private static String describe(JsonNode node) {
    return node == null
        ? "missing"
        : node.isContainerNode()
            ? node.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
            : node.toString();
  }

  /** The grid's points in index order. */
  List<Point> expand() {
    List<Point> points = new ArrayList<>();
    for (String machine : machines) {
      expand(machine, 0, new LinkedHashMap<>(), new ArrayList<>(), new LinkedHashMap<>(), points);
    }
    return points;
  }

  private void expand(
      String machine,
      int axis,
      Map<String, String> params,
      List<String> sets,
      Map<String, String> axisValues,
      List<Point> points) {
    if (axis == axes.size()) {
      for (long seed : seeds) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("machine", machine);
        values.putAll(axisValues);
        values.put("seed", Long.toString(seed));
        points.add(
            new Point(machine, new java.util.TreeMap<>(params), List.copyOf(sets), seed, values));
      }
      return;
    }
    Axis current = axes.get(axis);
    for (String value : current.values()) {
      Map<String, String> nextParams = new LinkedHashMap<>(params);
      List<String> nextSets = new ArrayList<>(sets);
      switch (current.kind()) {
        case PARAM -> nextParams.put(current.name(), value);
        case VARIANT -> nextSets.add("/kernel/variants/" + current.name() + "=" + value);
        case SET -> nextSets.add(current.name() + "=" + value);
      }
      Map<String, String> nextAxes = new LinkedHashMap<>(axisValues);
      nextAxes.put(current.key(), current.kind() == AxisKind.PARAM ? value : unquote(value));
      expand(machine, axis + 1, nextParams, nextSets, nextAxes, points);
    }
  }

  private static String unquote(String json) {
    return json.length() >= 2 && json.startsWith("\"") && json.endsWith("\"")
        ? json.substring(1, json.length() - 1)
        : json;
  }
}
