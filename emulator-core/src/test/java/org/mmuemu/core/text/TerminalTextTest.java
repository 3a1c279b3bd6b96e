package org.mmuemu.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Echoed input must reach the terminal as visible text, never as escape sequences. */
final class TerminalTextTest {
  @Test
  void controlCharacters_becomeHexEscapes() {
    assertThat(TerminalText.escape("a\u001b[31mred\u0007\r\n\t\u007f\u009b"))
        .isEqualTo("a\\x1b[31mred\\x07\\x0d\\x0a\\x09\\x7f\\x9b");
  }

  @Test
  void bidiOverrides_becomeUnicodeEscapes() {
    assertThat(TerminalText.escape("abc\u202egnp.exe\u2066")).isEqualTo("abc\\u202egnp.exe\\u2066");
  }

  @Test
  void plainAndNonAsciiText_isKeptAsItIs() {
    String text = "/tlb/levels/2/ways: 7 (expected: divides 1280) – ünïcödé 東京";
    assertThat(TerminalText.escape(text)).isSameAs(text);
  }
}
