package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Token comparison: equal only for the same text; null and prefixes never match. */
final class TokensTest {
  @Test
  void sameToken_matches() {
    assertThat(Tokens.matches("s3cret-Ω", "s3cret-Ω")).isTrue();
  }

  @Test
  void prefixLongerOrDifferentCase_doNotMatch() {
    assertThat(Tokens.matches("s3cret", "s3cre")).isFalse();
    assertThat(Tokens.matches("s3cret", "s3cret ")).isFalse();
    assertThat(Tokens.matches("s3cret", "S3cret")).isFalse();
    assertThat(Tokens.matches("s3cret", "")).isFalse();
  }

  @Test
  void null_neverMatches() {
    assertThat(Tokens.matches("s3cret", null)).isFalse();
    assertThat(Tokens.matches(null, "s3cret")).isFalse();
    assertThat(Tokens.matches(null, null)).isFalse();
  }
}
