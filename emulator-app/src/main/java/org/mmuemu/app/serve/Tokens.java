package org.mmuemu.app.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Compares client tokens with the server's in constant time: both are hashed with SHA-256 first, so
 * the comparison ({@link MessageDigest#isEqual}, which looks at every byte) takes the same time
 * whatever the length or content of the guess. Stateless.
 */
final class Tokens {
  private Tokens() {}

  /** Returns whether {@code presented} equals {@code expected}; null never matches. */
  static boolean matches(String expected, String presented) {
    if (expected == null || presented == null) {
      return false;
    }
    return MessageDigest.isEqual(sha256(expected), sha256(presented));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
