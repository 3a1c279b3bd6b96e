package org.mmuemu.core.config;

import java.util.Locale;

/**
 * Parses and prints byte sizes the way configs write them: {@code 4096}, {@code "4KiB"}, {@code
 * "2MiB"}, {@code "1GiB"} (binary units; {@code K}, {@code KB} and {@code KiB} all mean 1024).
 */
public final class ByteSize {
  private ByteSize() {}

  /**
   * Parses a size.
   *
   * @param value a non-negative whole number, or a string of digits with an optional unit
   * @return the size in bytes
   * @throws IllegalArgumentException when the value is not a size
   */
  public static long parse(Object value) {
    if (value instanceof Number number) {
      double d = number.doubleValue();
      if (d < 0 || d != Math.rint(d)) {
        throw new IllegalArgumentException("not a size: " + value);
      }
      return number.longValue();
    }
    if (!(value instanceof String text)) {
      throw new IllegalArgumentException("not a size: " + value);
    }
    String s = text.trim().toUpperCase(Locale.ROOT);
    int digitsEnd = 0;
    while (digitsEnd < s.length() && Character.isDigit(s.charAt(digitsEnd))) {
      digitsEnd++;
    }
    if (digitsEnd == 0 || digitsEnd > 18) {
      throw new IllegalArgumentException("not a size: " + text);
    }
    long number = Long.parseLong(s.substring(0, digitsEnd));
    String unit = s.substring(digitsEnd).trim();
    long multiplier =
        switch (unit) {
          case "", "B" -> 1L;
          case "K", "KB", "KIB" -> 1L << 10;
          case "M", "MB", "MIB" -> 1L << 20;
          case "G", "GB", "GIB" -> 1L << 30;
          case "T", "TB", "TIB" -> 1L << 40;
          default -> throw new IllegalArgumentException("not a size: " + text);
        };
    if (number > Long.MAX_VALUE / multiplier) {
      throw new IllegalArgumentException("size too large: " + text);
    }
    return number * multiplier;
  }

  /** Prints a size with the largest binary unit that divides it: {@code 2097152} → {@code 2MiB}. */
  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    long value = bytes;
    while (unit < units.length - 1 && value != 0 && value % 1024 == 0) {
      value /= 1024;
      unit++;
    }
    return value + units[unit];
  }
}
