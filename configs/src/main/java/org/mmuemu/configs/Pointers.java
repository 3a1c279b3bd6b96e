package org.mmuemu.configs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * RFC 6901 JSON pointers as plain strings: {@code ""} is the whole document, {@code /a/0/b~1c} is
 * member {@code b/c} of element 0 of member {@code a}. Stateless.
 */
final class Pointers {
  private Pointers() {}

  /**
   * Orders pointers segment by segment, numeric segments by value, so that {@code /tlb/levels/2}
   * comes before {@code /tlb/levels/10}.
   */
  static final Comparator<String> ORDER = Pointers::compare;

  /** Escapes one member name: {@code ~} as {@code ~0}, {@code /} as {@code ~1}. */
  static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /** Appends a member name. */
  static String child(String pointer, String key) {
    return pointer + "/" + escape(key);
  }

  /** Appends an array index. */
  static String child(String pointer, int index) {
    return pointer + "/" + index;
  }

  /**
   * Splits a pointer into unescaped segments.
   *
   * @throws IllegalArgumentException when the pointer is neither empty nor starts with {@code /}
   */
  static List<String> segments(String pointer) {
    if (pointer.isEmpty()) {
      return List.of();
    }
    if (pointer.charAt(0) != '/') {
      throw new IllegalArgumentException("not a JSON pointer: " + pointer);
    }
    List<String> segments = new ArrayList<>();
    int start = 1;
    while (true) {
      int slash = pointer.indexOf('/', start);
      String raw = slash < 0 ? pointer.substring(start) : pointer.substring(start, slash);
      segments.add(raw.replace("~1", "/").replace("~0", "~"));
      if (slash < 0) {
        return segments;
      }
      start = slash + 1;
    }
  }

  /** Returns whether {@code pointer} is {@code ancestor} or lies inside it. */
  static boolean isSameOrUnder(String pointer, String ancestor) {
    return pointer.equals(ancestor) || pointer.startsWith(ancestor + "/");
  }

  /** Parses an array index: digits without a leading zero, or -1 when the segment is not one. */
  static int index(String segment) {
    if (segment.isEmpty()
        || segment.length() > 9
        || (segment.length() > 1 && segment.charAt(0) == '0')) {
      return -1;
    }
    for (int i = 0; i < segment.length(); i++) {
      if (!Character.isDigit(segment.charAt(i))) {
        return -1;
      }
    }
    return Integer.parseInt(segment);
  }

  private static int compare(String a, String b) {
    String[] as = a.split("/", -1);
    String[] bs = b.split("/", -1);
    for (int i = 0; i < Math.min(as.length, bs.length); i++) {
      int ai = index(as[i]);
      int bi = index(bs[i]);
      int c = ai >= 0 && bi >= 0 ? Integer.compare(ai, bi) : as[i].compareTo(bs[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(as.length, bs.length);
  }
}
