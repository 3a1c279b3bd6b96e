package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.kernel.scenario.Scenario;
import org.mmuemu.kernel.scenario.ScenarioOps;

/** The shipped scenarios load; files are checked against the schema and the operation table. */
final class ScenarioLoaderTest {

  @Test
  void everyShippedScenarioIsListed_loads_andItsMachineLoadsForBothVariants() throws Exception {
    List<String> files;
    try (Stream<Path> list = Files.list(Path.of("scenarios"))) {
      files =
          list.map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".json"))
              .map(n -> n.substring(0, n.length() - 5))
              .sorted()
              .toList();
    }
    assertThat(ScenarioLoader.builtInNames()).isEqualTo(files);
    for (String name : files) {
      ScenarioLoader.LoadedScenario loaded = ScenarioLoader.load(name);
      assertThat(loaded.scenario().name()).isEqualTo(name);
      for (String variant : ScenarioLoader.VARIANTS) {
        LoadedMachine machine =
            ScenarioLoader.loadMachine(IsaRegistry.load(), loaded, variant, null);
        assertThat(machine.spec().cores())
            .isGreaterThanOrEqualTo(loaded.scenario().programs().size());
      }
      assertThat(loaded.scenario().expectedFor("buggy")).as(name).isNotEmpty();
      assertThat(loaded.scenario().expectedFor("fixed")).as(name).isEmpty();
    }
  }

  @Test
  void everyOperationIsDocumented() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "scenarios.md"));
    for (String op : ScenarioOps.names()) {
      assertThat(doc).as(op).contains("`" + op + "`");
    }
  }

  @Test
  void anInlineMachine_andAFileMachineRelativeToTheScenario_load(@TempDir Path dir)
      throws Exception {
    Files.writeString(
        dir.resolve("m.json"), "{\"name\": \"small\", \"extends\": \"x86-skylake\", \"cores\": 2}");
    String programs =
        "\"variants\": {\"buggy\": {\"expect\": \"KERNEL_UAF\"}, \"fixed\": {\"expect\": []}},"
            + " \"programs\": [[{\"op\": \"purge_vmap_area_lazy\"}]]}";
    Files.writeString(
        dir.resolve("a.json"), "{\"description\": \"d\", \"machine\": \"m.json\", " + programs);
    Files.writeString(
        dir.resolve("b.json"),
        "{\"description\": \"d\", \"machine\": {\"name\": \"inline\", \"extends\": \"arm64-neoverse-n1\","
            + " \"cores\": 3}, "
            + programs);
    ScenarioLoader.LoadedScenario a = ScenarioLoader.load(dir.resolve("a.json").toString());
    ScenarioLoader.LoadedScenario b = ScenarioLoader.load(dir.resolve("b.json").toString());
    assertThat(ScenarioLoader.loadMachine(IsaRegistry.load(), a, "fixed", null).spec().cores())
        .isEqualTo(2);
    assertThat(ScenarioLoader.loadMachine(IsaRegistry.load(), b, "fixed", null).spec().isa())
        .isEqualTo("arm64");
    Scenario scenario = a.scenario();
    assertThat(scenario.expectedFor("fixed")).isEmpty();
    assertThat(scenario.expectedFor("buggy")).containsExactly("KERNEL_UAF");
  }

  @Test
  void badFiles_reportEveryProblemWithItsPointer(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(
        file,
        "{\"description\": \"d\", \"machine\": \"x86-skylake\", \"extra\": 1,"
            + " \"variants\": {\"buggy\": {\"expect\": \"none\"}, \"fixed\": {\"expect\": \"none\"}},"
            + " \"programs\": [[{\"op\": \"load\", \"area\": \"nowhere\", \"size\": 3}]],"
            + " \"order\": [{\"cpu\": 4, \"until\": \"end\"}]}");
    assertThatThrownBy(() -> ScenarioLoader.load(file.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(file + ": /extra: unknown key");
    Files.writeString(
        file,
        "{\"description\": \"d\", \"machine\": \"x86-skylake\","
            + " \"variants\": {\"buggy\": {\"expect\": \"none\"}, \"fixed\": {\"expect\": \"none\"}},"
            + " \"programs\": [[{\"op\": \"load\", \"area\": \"nowhere\", \"size\": 3}]],"
            + " \"order\": [{\"cpu\": 4, \"until\": \"end\"}]}");
    ConfigException e =
        (ConfigException)
            org.assertj.core.api.Assertions.catchThrowable(
                () -> ScenarioLoader.load(file.toString()));
    assertThat(e.lines())
        .containsExactly(
            file + ": /order/0/cpu: 4 (expected: a CPU with a program, 0 to 0)",
            file
                + ": /programs/0/0/area: \"nowhere\" (expected: the name a step creates with \"as\")",
            file
                + ": /programs/0/0/size: unknown key for load (expected one of: op, area, process, offset)");
    Files.writeString(file, "{\"description\": ");
    assertThatThrownBy(() -> ScenarioLoader.load(file.toString()))
        .hasMessageStartingWith(file + ": line 1");
  }
}
