package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmuemu.configs.TestConfigs.LOADER;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.config.ConfigProblem;

/** {@code --set /pointer=value} overrides, applied after {@code extends} and before validation. */
final class SetOverridesTest {

  private static List<String> problems(String... overrides) {
    return LOADER.validate("arm64-neoverse-n1", List.of(overrides)).stream()
        .map(ConfigProblem::toString)
        .toList();
  }

  @Test
  void number_replacesTheValue() {
    LoadedMachine loaded =
        LOADER.load("arm64-neoverse-n1", List.of("/cores=16", "/tlb/levels/2/ways=10"));

    assertThat(loaded.spec().cores()).isEqualTo(16);
    assertThat(loaded.spec().tlbLevels().get(2).ways()).isEqualTo(10);
    assertThat(loaded.provenance()).doesNotContainKey("/cores");
    assertThat(loaded.configSha256()).isNotEqualTo(LOADER.load("arm64-neoverse-n1").configSha256());
  }

  @Test
  void nonJsonValue_isTakenAsAString() {
    LoadedMachine loaded =
        LOADER.load(
            "x86-skylake",
            List.of(
                "/memoryBytes=16GiB", "/name=my-skylake", "/tlb/levels/0/replacement=\"random\""));

    assertThat(loaded.spec().memoryBytes()).isEqualTo(16L << 30);
    assertThat(loaded.spec().name()).isEqualTo("my-skylake");
    assertThat(loaded.spec().tlbLevels().get(0).replacement().configName()).isEqualTo("random");
  }

  @Test
  void missingMembers_areCreated() {
    LoadedMachine loaded = LOADER.load("x86-skylake", List.of("/kernel/costs/lockCycles=99"));
    LoadedMachine fromNothing =
        LOADER.loadInline(
            "{\"name\": \"n\", \"extends\": \"x86-skylake\", " + "\"kernel\": null}",
            List.of("/kernel/costs/pteWriteCycles=7"));

    assertThat(loaded.spec().kernelSection().section("costs").getLong("lockCycles", 0))
        .isEqualTo(99);
    assertThat(fromNothing.spec().kernelSection().section("costs").getLong("pteWriteCycles", 0))
        .isEqualTo(7);
  }

  @Test
  void appendAndNull_editArrays() {
    LoadedMachine loaded =
        LOADER.load(
            "arm64-neoverse-n1",
            List.of(
                "/walker/walkCaches/2=null",
                "/tlb/levels/-={\"name\": \"l3\", \"serves\": \"unified\", "
                    + "\"entries\": 8, \"ways\": 8, \"pageSizes\": [\"1GiB\"], \"hitCycles\": 20}"));

    assertThat(loaded.spec().walker().walkCaches()).hasSize(2);
    assertThat(loaded.spec().tlbLevels()).hasSize(4);
  }

  @Test
  void badPointers_nameTheFlag() {
    assertThat(problems("/tlb/levels/9/ways=4", "/cores/x=1", "cores=1", "/cores"))
        .containsExactly(
            "--set /tlb/levels/9/ways=4: /tlb/levels/9 does not exist (expected: an index from 0 to 2, or - to append)",
            "--set /cores/x=1: /cores is 8 (expected: an object or array to set x in)",
            "--set cores=1: \"cores\" is not a JSON pointer (expected: /json/pointer=value, such as "
                + "/tlb/levels/2/ways=8)",
            "--set /cores: no '=' (expected: /json/pointer=value, such as /cores=16)");
  }

  @Test
  void overriddenValue_isValidatedLikeAnyOther() {
    assertThat(problems("/cores=eight", "/tlb/levels/2/ways=7", "/bogus/deep=1"))
        .containsExactly(
            "/bogus: unknown key (expected one of: accessCycles, arm64, cores, description, extends, frequencyGHz, "
                + "isa, kernel, memoryBytes, name, numaNodes, provenance, quantumCycles, tlb, walker, x86)",
            "/cores: \"eight\" (expected: an integer)",
            "/tlb/levels/2/ways: 7 (expected: divides entries 1280)");
    assertThatThrownBy(() -> LOADER.load("arm64-neoverse-n1", List.of("/cores=0")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("/cores: 0 (expected: at least 1)");
  }
}
