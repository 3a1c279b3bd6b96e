package org.mmuemu.app;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Calibration targets ({@code mmuemu calibrate}): published measurements and how the model
 * reproduces each, read from a JSON file. The built-in set is {@code calibration-targets.json} in
 * the jar; a user may give their own with {@code --targets}.
 *
 * <pre>{@code
 * {"targets": [
 *   {"id": "x86-flush-8-vs-1-page", "title": "...", "source": "...", "machine": "x86-haswell",
 *    "role": "fitted", "published": 2.776, "tolerance": 0.25,
 *    "model": {
 *      "numerator": {"workload": "munmap-storm", "params": {"threads": 1, "regionBytes": "32KiB"},
 *                    "metric": "/latency/flush_tlb_range/mean"},
 *      "denominator": {"workload": "munmap-storm", "params": {"threads": 1, "regionBytes": 4096},
 *                      "metric": "/latency/flush_tlb_range/mean"}}}]}
 * }</pre>
 *
 * <p>The model's figure is the numerator's metric (a JSON pointer into the run's result) divided by
 * its {@code divideBy}, over the denominator's; with {@code "unit": "ns"} there is no denominator
 * and the figure is the numerator in nanoseconds at the machine's clock. {@code sets} are {@code
 * --set} overrides of the run. {@code role}: {@code fitted} (model values were fitted to it),
 * {@code check} (an independent measurement, nothing fitted) or {@code gap} (the model's structure
 * cannot produce it; reported, never failing the command).
 *
 * @param targets in file order
 */
record CalibrationTargets(List<CalibrationTargets.Target> targets) {
  /** The resource holding the built-in targets. */
  static final String BUILT_IN = "calibration-targets.json";

  /** A targets file is read whole; this bounds the memory a wrong file can take. */
  static final long MAX_FILE_BYTES = 1L << 20;

  /** What a target is to the model. */
  enum Role {
    FITTED,
    CHECK,
    GAP;

    String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a figure outside the tolerance fails the command. */
    boolean gated() {
      return this != GAP;
    }
  }

  /**
   * One run and the figure read from its result.
   *
   * @param pointer where this measure is in the targets file, for errors found while running
   * @param sets {@code --set} overrides, as {@code /pointer=value}
   * @param metric JSON pointer into the run's result
   * @param divideBy the metric is divided by this (for example the iterations, for a per-round
   *     figure)
   */
  record Measure(
      String pointer,
      String workload,
      Map<String, String> params,
      List<String> sets,
      String metric,
      double divideBy) {}

  /**
   * One published figure and its model counterpart.
   *
   * @param pointer where the target is in the file ({@code /targets/3})
   * @param unit {@code ratio} (numerator over denominator) or {@code ns}
   * @param denominator null for {@code ns}
   */
  record Target(
      String pointer,
      String id,
      String title,
      String source,
      String machine,
      Role role,
      double published,
      String unit,
      double tolerance,
      String note,
      Measure numerator,
      Measure denominator) {}

  /** The targets shipped in the jar. */
  static CalibrationTargets builtIn() {
    try (InputStream in = CalibrationTargets.class.getResourceAsStream(BUILT_IN)) {
      if (in == null) {
        throw new IllegalStateException(BUILT_IN + " is missing from the jar");
      }
      return parse(BUILT_IN, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (UserInputException e) {
      throw new IllegalStateException("the built-in " + BUILT_IN + " is invalid: " + e.lines(), e);
    }
  }

  /**
   * Reads a user's targets file.
   *
   * @throws UserInputException naming the file and the JSON pointer of each problem
   */
  static CalibrationTargets read(Path file) throws UserInputException {
    String text;
    try {
      long sizeBytes = Files.size(file);
      if (sizeBytes > MAX_FILE_BYTES) {
        throw new UserInputException(
            "--targets "
                + file
                + ": "
                + sizeBytes
                + " bytes (expected: at most "
                + MAX_FILE_BYTES
                + " bytes)");
      }
      text = Files.readString(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UserInputException("--targets " + file + ": no such file");
    } catch (IOException e) {
      throw new UserInputException("--targets " + file + ": cannot read (" + e.getMessage() + ")");
    }
    return parse("--targets " + file, text);
  }

  static CalibrationTargets parse(String origin, String text) throws UserInputException {
    String where = origin + ": ";
    JsonNode root = CompareSpec.parseStrict(where, text);
    List<String> problems = new ArrayList<>();
    if (root == null || !root.isObject()) {
      throw new UserInputException(
          where + "/: " + CompareSpec.kind(root) + " (expected: an object with targets)");
    }
    CompareSpec.unknownKeys(root, "", Set.of("targets", "description"), where, problems);
    JsonNode nodes = root.get("targets");
    List<Target> targets = new ArrayList<>();
    if (nodes == null || !nodes.isArray() || nodes.isEmpty()) {
      problems.add(
          where + "/targets: " + CompareSpec.kind(nodes) + " (expected: a non-empty array)");
    } else {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        Target target = target(nodes.get(i), "/targets/" + i, where, problems);
        if (target != null) {
          if (ids.contains(target.id())) {
            problems.add(
                where
                    + target.pointer()
                    + "/id: \""
                    + target.id()
                    + "\" (expected: an id no other target has)");
          }
          ids.add(target.id());
          targets.add(target);
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new UserInputException(problems);
    }
    return new CalibrationTargets(List.copyOf(targets));
  }

  private static Target target(JsonNode node, String pointer, String where, List<String> problems) {
    if (!node.isObject()) {
      problems.add(where + pointer + ": " + CompareSpec.kind(node) + " (expected: an object)");
      return null;
    }
    int before = problems.size();
    CompareSpec.unknownKeys(
        node,
        pointer,
        Set.of(
            "id",
            "title",
            "source",
            "machine",
            "role",
            "published",
            "unit",
            "tolerance",
            "note",
            "model"),
        where,
        problems);
    String id = text(node, pointer, "id", where, problems, true);
    String title = text(node, pointer, "title", where, problems, true);
    String source = text(node, pointer, "source", where, problems, true);
    String machine = text(node, pointer, "machine", where, problems, true);
    String note = text(node, pointer, "note", where, problems, false);
    String roleText = text(node, pointer, "role", where, problems, false);
    Role role = Role.FITTED;
    if (roleText != null) {
      try {
        role = Role.valueOf(roleText.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        problems.add(
            where + pointer + "/role: \"" + roleText + "\" (expected: one of fitted, check, gap)");
      }
    }
    String unit = text(node, pointer, "unit", where, problems, false);
    if (unit == null) {
      unit = "ratio";
    } else if (!unit.equals("ratio") && !unit.equals("ns")) {
      problems.add(where + pointer + "/unit: \"" + unit + "\" (expected: one of ratio, ns)");
    }
    double published = positive(node, pointer, "published", Double.NaN, where, problems);
    double tolerance = positive(node, pointer, "tolerance", 0.25, where, problems);
    JsonNode model = node.get("model");
    Measure numerator = null;
    Measure denominator = null;
    if (model == null || !model.isObject()) {
      problems.add(
          where
              + pointer
              + "/model: "
              + CompareSpec.kind(model)
              + " (expected: an object with numerator and, for a ratio, denominator)");
    } else {
      String modelPointer = pointer + "/model";
      CompareSpec.unknownKeys(
          model, modelPointer, Set.of("numerator", "denominator"), where, problems);
      numerator = measure(model.get("numerator"), modelPointer + "/numerator", where, problems);
      if ("ratio".equals(unit)) {
        denominator =
            measure(model.get("denominator"), modelPointer + "/denominator", where, problems);
      } else if (model.has("denominator")) {
        problems.add(
            where + modelPointer + "/denominator: present (expected: none with unit \"ns\")");
      }
    }
    if (problems.size() > before) {
      return null;
    }
    return new Target(
        pointer,
        id,
        title,
        source,
        machine,
        role,
        published,
        unit,
        tolerance,
        note,
        numerator,
        denominator);
  }

  private static Measure measure(
      JsonNode node, String pointer, String where, List<String> problems) {
    if (node == null || !node.isObject()) {
      problems.add(
          where
              + pointer
              + ": "
              + CompareSpec.kind(node)
              + " (expected: an object with workload and metric)");
      return null;
    }
    CompareSpec.unknownKeys(
        node, pointer, Set.of("workload", "params", "sets", "metric", "divideBy"), where, problems);
    String workload = text(node, pointer, "workload", where, problems, true);
    String metric = text(node, pointer, "metric", where, problems, true);
    if (metric != null && !metric.startsWith("/")) {
      problems.add(
          where
              + pointer
              + "/metric: \""
              + metric
              + "\" (expected: a JSON pointer into the run's result, such as"
              + " /latency/flush_tlb_range/mean)");
    }
    double divideBy = positive(node, pointer, "divideBy", 1.0, where, problems);
    Map<String, String> params =
        CompareSpec.params(node.get("params"), pointer + "/params", where, problems);
    List<String> sets = CompareSpec.sets(node.get("sets"), pointer + "/sets", where, problems);
    return new Measure(pointer, workload, params, sets, metric, divideBy);
  }

  private static double positive(
      JsonNode parent,
      String pointer,
      String key,
      double fallback,
      String where,
      List<String> problems) {
    JsonNode node = parent.get(key);
    if (node == null) {
      if (Double.isNaN(fallback)) {
        problems.add(where + pointer + "/" + key + ": missing (expected: a number above 0)");
      }
      return fallback;
    }
    if (!node.isNumber() || !(node.asDouble() > 0) || Double.isInfinite(node.asDouble())) {
      problems.add(where + pointer + "/" + key + ": " + node + " (expected: a number above 0)");
      return fallback;
    }
    return node.asDouble();
  }

  private static String text(
      JsonNode parent,
      String pointer,
      String key,
      String where,
      List<String> problems,
      boolean required) {
    JsonNode node = parent.get(key);
    if (node == null) {
      if (required) {
        problems.add(where + pointer + "/" + key + ": missing (expected: a string)");
      }
      return null;
    }
    if (!node.isTextual() || node.asText().isBlank()) {
      problems.add(where + pointer + "/" + key + ": " + node + " (expected: a non-empty string)");
      return null;
    }
    return node.asText();
  }
}
