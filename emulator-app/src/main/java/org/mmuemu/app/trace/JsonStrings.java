package org.mmuemu.app.trace;

import java.util.Locale;

/**
 * JSON string literals for the trace writers, which build their lines by hand to allocate little.
 */
public final class JsonStrings {
  private JsonStrings() {}

  /**
   * Appends {@code text} as a quoted JSON string: quotes, backslashes and control characters
   * escaped.
   */
  public static void append(StringBuilder line, String text) {
    line.append('"');
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch == '"' || ch == '\\') {
        line.append('\\').append(ch);
      } else if (ch < 0x20) {
        line.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
      } else {
        line.append(ch);
      }
    }
    line.append('"');
  }
}
