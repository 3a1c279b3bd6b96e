package org.mmuemu.core.text;

/**
 * Makes text that echoes user input safe to print on a terminal: a crafted trace line, config key
 * or file name must not be able to send escape sequences (colours, cursor moves, title changes,
 * clipboard writes) to the user's terminal.
 *
 * <p>Control characters (C0, DEL and C1) are shown as {@code \xNN}, so {@code ESC} becomes {@code
 * \x1b}; Unicode bidirectional overrides and isolates, which can make text read differently from
 * what it is, are shown as {@code \\uNNNN}. Everything else, including other non-ASCII text, is
 * kept. Stateless.
 */
public final class TerminalText {
  private TerminalText() {}

  /** Returns {@code text} with every control character escaped; the same string when none is. */
  public static String escape(String text) {
    if (text == null) {
      return "null";
    }
    int first = 0;
    while (first < text.length() && !needsEscape(text.charAt(first))) {
      first++;
    }
    if (first == text.length()) {
      return text;
    }
    StringBuilder escaped = new StringBuilder(text.length() + 16).append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (!needsEscape(ch)) {
        escaped.append(ch);
      } else if (ch <= 0xff) {
        escaped
            .append("\\x")
            .append(Character.forDigit(ch >> 4, 16))
            .append(Character.forDigit(ch & 0xf, 16));
      } else {
        escaped.append(String.format("\\u%04x", (int) ch));
      }
    }
    return escaped.toString();
  }

  private static boolean needsEscape(char ch) {
    return ch < 0x20
        || (ch >= 0x7f && ch <= 0x9f)
        || (ch >= 0x202a && ch <= 0x202e)
        || (ch >= 0x2066 && ch <= 0x2069);
  }
}
