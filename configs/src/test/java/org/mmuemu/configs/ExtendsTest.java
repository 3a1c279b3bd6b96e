package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmuemu.configs.TestConfigs.LOADER;
import static org.mmuemu.configs.TestConfigs.problems;
import static org.mmuemu.configs.TestConfigs.write;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;

/**
 * {@code extends}: objects merge key by key, arrays replace, paths are relative, cycles are caught.
 */
final class ExtendsTest {
  @TempDir Path dir;

  @Test
  void childOfBuiltIn_mergesObjectsAndReplacesArrays() {
    Path file =
        write(
            dir,
            "big-n1.json",
            """
        {'name': 'big-n1', 'extends': 'arm64-neoverse-n1', 'cores': 64,
         'walker': {'walkCacheHitCycles': 7},
         'arm64': {'costs': {'tlbiCycles': 12}},
         'tlb': {'levels': [{'name': 'only', 'serves': 'unified', 'entries': 64, 'ways': 4,
                             'pageSizes': ['4KiB'], 'hitCycles': 1}]}}
        """);

    LoadedMachine loaded = LOADER.load(file.toString());
    MachineSpec spec = loaded.spec();

    assertThat(spec.name()).isEqualTo("big-n1");
    assertThat(spec.description()).as("description is never inherited").isEmpty();
    assertThat(spec.cores()).isEqualTo(64);
    assertThat(spec.frequencyGHz()).as("inherited").isEqualTo(3.0);
    assertThat(spec.walker().walkCacheHitCycles()).isEqualTo(7);
    assertThat(spec.walker().memoryRefCycles())
        .as("sibling key inherited")
        .containsExactly(20, 20, 20, 20);
    assertThat(spec.isaSection().section("costs").getLong("tlbiCycles", 0)).isEqualTo(12);
    assertThat(spec.isaSection().section("costs").getLong("tlbiAllCycles", 0)).isEqualTo(50);
    assertThat(spec.tlbLevels()).extracting(TlbLevelSpec::name).containsExactly("only");
    assertThat(loaded.resolvedJson()).doesNotContain("extends");
    assertThat(loaded.provenance())
        .as("parent provenance of replaced values is dropped")
        .doesNotContainKeys("/cores", "/tlb/levels/2", "/walker/walkCacheHitCycles")
        .containsKeys("/frequencyGHz", "/walker/memoryRefCycles", "/arm64/costs/tlbiAllCycles");
  }

  @Test
  void relativePath_isResolvedAgainstTheExtendingFile() {
    write(
        dir,
        "base/common.json",
        """
        {'name': 'common', 'extends': 'x86-skylake', 'memoryBytes': '1GiB',
         'provenance': {'/memoryBytes': 'E small for tests'}}
        """);
    Path child =
        write(
            dir,
            "machines/child.json",
            """
        {'name': 'child', 'extends': '../base/common.json', 'cores': 2}
        """);

    LoadedMachine loaded = LOADER.load(child.toString());

    assertThat(loaded.spec().memoryBytes()).isEqualTo(1L << 30);
    assertThat(loaded.spec().cores()).isEqualTo(2);
    assertThat(loaded.spec().isa()).isEqualTo("x86");
    assertThat(loaded.provenance()).containsEntry("/memoryBytes", "E small for tests");
  }

  @Test
  void nullInChild_removesTheInheritedMember() {
    Path file =
        write(
            dir,
            "no-pwc.json",
            """
        {'name': 'no-pwc', 'extends': 'x86-skylake', 'walker': {'walkCaches': null}}
        """);

    assertThat(LOADER.load(file.toString()).spec().walker().walkCaches()).isEmpty();
  }

  @Test
  void cycle_isReportedWithTheChain() {
    write(dir, "a.json", "{'name': 'a', 'extends': 'b.json'}");
    write(dir, "b.json", "{'name': 'b', 'extends': 'a.json'}");

    List<String> lines = problems(dir.resolve("a.json"));

    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .startsWith(
            dir.resolve("b.json")
                + ": /extends: \"a.json\" (expected: an extends chain "
                + "without a cycle, but "
                + dir.resolve("a.json")
                + " extends "
                + dir.resolve("b.json")
                + " extends "
                + dir.resolve("a.json")
                + ")");
  }

  @Test
  void selfExtension_isACycle() {
    Path file = write(dir, "self.json", "{'name': 'self', 'extends': './self.json'}");

    assertThat(problems(file)).singleElement().asString().contains("without a cycle");
  }

  @Test
  void unknownExtends_namesTheBuiltInsAndFiles() {
    Path file = write(dir, "u.json", "{'name': 'u', 'extends': 'nosuch'}");

    assertThat(problems(file))
        .containsExactly(
            "/extends: \"nosuch\" (expected: a built-in machine name "
                + "(arm64-apple-m2, arm64-neoverse-n1, x86-haswell, x86-skylake, x86-zen4) or a path to a config file)");
  }

  @Test
  void unknownExtendsInAParent_namesTheParentFile() {
    Path parent = write(dir, "p.json", "{'name': 'p', 'extends': 42}");
    Path child = write(dir, "c.json", "{'name': 'c', 'extends': 'p.json'}");

    assertThat(problems(child))
        .containsExactly(
            parent
                + ": /extends: 42 (expected: a built-in machine name "
                + "(arm64-apple-m2, arm64-neoverse-n1, x86-haswell, x86-skylake, x86-zen4) or a path to a config file)");
  }

  @Test
  void inlineConfig_mayExtendBuiltInsButNeverFiles() {
    write(dir, "secret.json", "{'name': 'secret', 'extends': 'x86-skylake'}");
    String extendsFile = "{\"name\": \"i\", \"extends\": \"" + dir.resolve("secret.json") + "\"}";

    assertThat(
            LOADER
                .loadInline("{\"name\": \"i\", \"extends\": \"x86-skylake\"}", List.of())
                .spec()
                .isa())
        .isEqualTo("x86");
    assertThatThrownBy(() -> LOADER.loadInline(extendsFile, List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("/extends: ")
        .hasMessageEndingWith(
            "(expected: a built-in machine name (arm64-apple-m2, arm64-neoverse-n1, x86-haswell, x86-skylake, x86-zen4); "
                + "an inline config cannot extend files)");
  }

  @Test
  void childWithoutName_isReported() {
    Path file = write(dir, "anon.json", "{'extends': 'arm64-neoverse-n1'}");

    assertThat(problems(file)).containsExactly("/name: missing (expected: a string, required)");
  }
}
