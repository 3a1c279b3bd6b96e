package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every main package of a module says what it is for: a {@code package-info.java} with a Javadoc
 * paragraph. Reads the source tree (Surefire runs in this module's directory, the modules are its
 * siblings).
 */
final class PackageDocumentationTest {
  private static final int MIN_DESCRIPTION_CHARS = 80;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "emulator-core",
        "isa-arm64",
        "isa-x86",
        "kernel-mm",
        "configs",
        "emulator-app",
        "benchmarks"
      })
  void everyMainPackage_hasAPackageInfoWithADescription(String module) throws IOException {
    Path sources = Path.of("..", module, "src", "main", "java");
    assertThat(sources).isDirectory();
    List<String> undocumented = new ArrayList<>();
    try (Stream<Path> directories = Files.walk(sources).filter(Files::isDirectory)) {
      for (Path directory : directories.toList()) {
        if (!holdsJavaSources(directory)) {
          continue;
        }
        Path info = directory.resolve("package-info.java");
        if (!Files.exists(info)
            || description(Files.readString(info)).length() < MIN_DESCRIPTION_CHARS) {
          undocumented.add(sources.relativize(directory).toString());
        }
      }
    }
    assertThat(undocumented)
        .as("packages of %s without a package-info.java paragraph", module)
        .isEmpty();
  }

  private static boolean holdsJavaSources(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.anyMatch(
          f -> f.toString().endsWith(".java") && !f.endsWith("package-info.java"));
    }
  }

  /** The text of the Javadoc comment before the package declaration, without its markers. */
  private static String description(String source) {
    int start = source.indexOf("/**");
    int end = source.indexOf("*/", start + 3);
    if (start < 0 || end < 0 || end > source.indexOf("package ")) {
      return "";
    }
    return source
        .substring(start + 3, end)
        .replaceAll("(?m)^\\s*\\*", " ")
        .replaceAll("\\s+", " ")
        .trim();
  }
}
