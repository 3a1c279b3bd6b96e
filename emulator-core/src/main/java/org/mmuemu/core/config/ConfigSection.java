package org.mmuemu.core.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A read-only view of one JSON object of a machine config, as plain Java values (maps, lists,
 * strings, numbers, booleans), that remembers its JSON pointer.
 *
 * <p>ISA providers and the kernel read their own section through this class, so emulator-core needs
 * no JSON library. Typed getters take a default for absent keys and record a {@link ConfigProblem}
 * for present keys of the wrong type, so a provider can validate a whole section and report every
 * problem at once.
 *
 * <p>Not thread-safe while problems are being collected; immutable otherwise.
 */
public final class ConfigSection {
  private final String pointer;
  private final Map<String, Object> values;
  private final List<ConfigProblem> problems;

  /**
   * Wraps an object.
   *
   * @param pointer JSON pointer of this object in the config ({@code ""} for the root)
   * @param values the object's members; kept by reference, never modified
   */
  public ConfigSection(String pointer, Map<String, Object> values) {
    this(pointer, values, new ArrayList<>());
  }

  private ConfigSection(String pointer, Map<String, Object> values, List<ConfigProblem> problems) {
    this.pointer = pointer;
    this.values = values == null ? Map.of() : values;
    this.problems = problems;
  }

  /** An empty section at {@code pointer}. */
  public static ConfigSection empty(String pointer) {
    return new ConfigSection(pointer, new LinkedHashMap<>());
  }

  public String pointer() {
    return pointer;
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public Set<String> keys() {
    return Collections.unmodifiableSet(values.keySet());
  }

  /** The raw members of this object. */
  public Map<String, Object> asMap() {
    return Collections.unmodifiableMap(values);
  }

  /** Returns the pointer of a member: {@code /arm64} + {@code asidBits}. */
  public String pointerOf(String key) {
    return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
  }

  /** Problems recorded by getters of this section and of the sections derived from it. */
  public List<ConfigProblem> problems() {
    return Collections.unmodifiableList(problems);
  }

  /** Records a problem found by the caller's own checks. */
  public void report(String key, Object found, String expectation) {
    problems.add(ConfigProblem.expected(pointerOf(key), found, expectation));
  }

  /** Returns a nested object, or an empty one when absent; a non-object is reported. */
  @SuppressWarnings("unchecked")
  public ConfigSection section(String key) {
    Object value = values.get(key);
    if (value == null) {
      return new ConfigSection(pointerOf(key), Map.of(), problems);
    }
    if (!(value instanceof Map)) {
      report(key, describe(value), "an object");
      return new ConfigSection(pointerOf(key), Map.of(), problems);
    }
    return new ConfigSection(pointerOf(key), (Map<String, Object>) value, problems);
  }

  /** Returns a whole number, or {@code defaultValue} when absent. */
  public long getLong(String key, long defaultValue) {
    Object value = values.get(key);
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof Number number && isWhole(number)) {
      return number.longValue();
    }
    report(key, describe(value), "an integer");
    return defaultValue;
  }

  /** Returns a whole number in {@code [min, max]}, or {@code defaultValue} when absent. */
  public long getLong(String key, long defaultValue, long min, long max) {
    long result = getLong(key, defaultValue);
    if (values.containsKey(key) && (result < min || result > max)) {
      report(key, result, "an integer from " + min + " to " + max);
      return defaultValue;
    }
    return result;
  }

  /** Returns an int in {@code [min, max]}, or {@code defaultValue} when absent. */
  public int getInt(String key, int defaultValue, int min, int max) {
    return (int) getLong(key, defaultValue, min, max);
  }

  /** Returns a number, or {@code defaultValue} when absent. */
  public double getDouble(String key, double defaultValue) {
    Object value = values.get(key);
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof Number number) {
      return number.doubleValue();
    }
    report(key, describe(value), "a number");
    return defaultValue;
  }

  /** Returns a boolean, or {@code defaultValue} when absent. */
  public boolean getBoolean(String key, boolean defaultValue) {
    Object value = values.get(key);
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof Boolean bool) {
      return bool;
    }
    report(key, describe(value), "true or false");
    return defaultValue;
  }

  /** Returns a string, or {@code defaultValue} when absent. */
  public String getString(String key, String defaultValue) {
    Object value = values.get(key);
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof String string) {
      return string;
    }
    report(key, describe(value), "a string");
    return defaultValue;
  }

  /** Returns one of {@code allowed}, or {@code defaultValue} when absent. */
  public String getChoice(String key, String defaultValue, List<String> allowed) {
    String result = getString(key, defaultValue);
    if (values.containsKey(key) && !allowed.contains(result)) {
      report(key, quote(result), "one of " + String.join(", ", allowed));
      return defaultValue;
    }
    return result;
  }

  /** Returns a byte size written as a number or as {@code "8GiB"}, or the default when absent. */
  public long getBytes(String key, long defaultValue) {
    Object value = values.get(key);
    if (value == null) {
      return defaultValue;
    }
    try {
      return ByteSize.parse(value);
    } catch (IllegalArgumentException e) {
      report(key, describe(value), "a size such as 4096, \"64KiB\" or \"2MiB\"");
      return defaultValue;
    }
  }

  /** Reports every member not in {@code known}, as a typo would otherwise be silently ignored. */
  public void rejectUnknownKeys(Set<String> known) {
    for (String key : values.keySet()) {
      if (!known.contains(key)) {
        problems.add(
            new ConfigProblem(
                pointerOf(key),
                "unknown key (expected one of: "
                    + String.join(", ", known.stream().sorted().toList())
                    + ")"));
      }
    }
  }

  private static boolean isWhole(Number number) {
    if (number instanceof Double || number instanceof Float) {
      double d = number.doubleValue();
      return d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 9.0e15;
    }
    return true;
  }

  /** Renders a value as it appeared in JSON, for error messages. */
  public static String describe(Object value) {
    if (value instanceof String string) {
      return quote(string);
    }
    if (value instanceof Map) {
      return "an object";
    }
    if (value instanceof List) {
      return "an array";
    }
    return String.valueOf(value);
  }

  private static String quote(String s) {
    return "\"" + s + "\"";
  }
}
