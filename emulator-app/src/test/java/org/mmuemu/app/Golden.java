package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.mmuemu.app.version.VersionProvider;

/**
 * Golden files under {@code src/test/resources/golden}: a test's output must equal the checked-in
 * file byte for byte. {@code -Dgolden.update=true} rewrites the files instead (then review the diff
 * before committing).
 */
final class Golden {
  private static final Path DIRECTORY = Path.of("src/test/resources/golden");

  private Golden() {}

  static void assertMatches(String actual, String name) throws IOException {
    Path file = DIRECTORY.resolve(name);
    if (Boolean.getBoolean("golden.update")) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, actual, StandardCharsets.UTF_8);
      return;
    }
    assertThat(file).as("golden file %s (create it with -Dgolden.update=true)", file).exists();
    assertThat(actual).isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
  }

  /** Replaces the tool version, the one part of a report that changes with every release. */
  static String withoutVersion(String text) {
    return text.replace("mmuemu " + VersionProvider.version(), "mmuemu VERSION");
  }
}
