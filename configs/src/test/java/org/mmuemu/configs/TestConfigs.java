package org.mmuemu.configs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.isa.IsaRegistry;

/**
 * Shared helpers: one loader over the ISAs on the test classpath, and config files in a temp dir.
 */
final class TestConfigs {
  static final MachineConfigLoader LOADER = new MachineConfigLoader(IsaRegistry.load());

  private TestConfigs() {}

  /** Writes {@code json} (single quotes turned into double quotes) to {@code dir/name}. */
  static Path write(Path dir, String name, String json) {
    try {
      Path file = dir.resolve(name);
      Files.createDirectories(file.getParent());
      Files.writeString(file, json.replace('\'', '"'), StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The problem lines of a config file. */
  static List<String> problems(Path file, String... overrides) {
    return LOADER.validate(file.toString(), List.of(overrides)).stream()
        .map(ConfigProblem::toString)
        .toList();
  }
}
