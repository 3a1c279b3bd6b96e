package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Locale;
import org.mmuemu.core.config.ByteSize;

/**
 * One documented parameter of a workload ({@code --param name=value}).
 *
 * @param name the parameter's name
 * @param type how its value is read
 * @param defaultValue the value used when it is not given ({@code null}: computed, see description)
 * @param description one line for {@code mmuemu list workloads}
 * @param choices the allowed values of a {@link Type#CHOICE}
 * @param min smallest allowed value of a number or size
 * @param max largest allowed value of a number or size
 */
public record WorkloadParam(
    String name,
    Type type,
    String defaultValue,
    String description,
    List<String> choices,
    double min,
    double max) {

  /** How a value is parsed. */
  public enum Type {
    INTEGER,
    SIZE,
    FRACTION,
    CHOICE,
    TEXT
  }

  public WorkloadParam {
    choices = List.copyOf(choices);
  }

  public static WorkloadParam integer(
      String name, String defaultValue, long min, long max, String description) {
    return new WorkloadParam(name, Type.INTEGER, defaultValue, description, List.of(), min, max);
  }

  public static WorkloadParam size(
      String name, String defaultValue, long min, long max, String description) {
    return new WorkloadParam(name, Type.SIZE, defaultValue, description, List.of(), min, max);
  }

  public static WorkloadParam fraction(String name, String defaultValue, String description) {
    return new WorkloadParam(name, Type.FRACTION, defaultValue, description, List.of(), 0, 1);
  }

  public static WorkloadParam choice(
      String name, String defaultValue, List<String> choices, String description) {
    return new WorkloadParam(name, Type.CHOICE, defaultValue, description, choices, 0, 0);
  }

  /**
   * Checks a value and returns it normalized (sizes as bytes, choices lower-case).
   *
   * @throws IllegalArgumentException with the expectation, when the value is not allowed
   */
  public String normalize(String value) {
    switch (type) {
      case INTEGER:
        long number;
        try {
          number = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "expected: an integer from " + (long) min + " to " + (long) max);
        }
        if (number < min || number > max) {
          throw new IllegalArgumentException(
              "expected: an integer from " + (long) min + " to " + (long) max);
        }
        return Long.toString(number);
      case SIZE:
        long bytes;
        try {
          bytes = ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("expected: a size such as 4096, 64KiB or 2MiB");
        }
        if (bytes < min || bytes > max) {
          throw new IllegalArgumentException(
              "expected: a size from "
                  + ByteSize.format((long) min)
                  + " to "
                  + ByteSize.format((long) max));
        }
        return Long.toString(bytes);
      case FRACTION:
        double fraction;
        try {
          fraction = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("expected: a number from 0 to 1");
        }
        if (!(fraction >= 0 && fraction <= 1)) {
          throw new IllegalArgumentException("expected: a number from 0 to 1");
        }
        return Double.toString(fraction);
      case CHOICE:
        String lower = value.trim().toLowerCase(Locale.ROOT);
        if (!choices.contains(lower)) {
          throw new IllegalArgumentException("expected one of: " + String.join(", ", choices));
        }
        return lower;
      case TEXT:
      default:
        return value;
    }
  }
}
