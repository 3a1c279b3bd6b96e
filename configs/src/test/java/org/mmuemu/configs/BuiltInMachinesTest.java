package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.configs.TestConfigs.LOADER;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.config.WalkerSpec.WalkCacheSpec;

/** The shipped machines load, bind to the numbers of TIMINGS.md, and document every value. */
final class BuiltInMachinesTest {

  @Test
  void builtInNames_areSortedAndMatchTheMachinesDirectory() throws IOException {
    List<String> onDisk;
    try (Stream<Path> files = Files.list(Path.of("machines"))) {
      onDisk =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".json"))
              .map(n -> n.substring(0, n.length() - ".json".length()))
              .sorted()
              .toList();
    }
    assertThat(LOADER.builtInMachineNames())
        .containsExactly(
            "arm64-apple-m2", "arm64-neoverse-n1", "x86-haswell", "x86-skylake", "x86-zen4");
    assertThat(LOADER.builtInMachineNames()).isEqualTo(onDisk);
    assertThat(LOADER.builtInMachineDescription("x86-skylake")).startsWith("Intel Skylake");
  }

  @Test
  void neoverseN1_bindsTheDocumentedGeometry() {
    LoadedMachine loaded = LOADER.load("arm64-neoverse-n1");
    MachineSpec spec = loaded.spec();

    assertThat(loaded.source()).isEqualTo("arm64-neoverse-n1");
    assertThat(spec.name()).isEqualTo("arm64-neoverse-n1");
    assertThat(spec.isa()).isEqualTo("arm64");
    assertThat(spec.cores()).isEqualTo(8);
    assertThat(spec.frequencyGHz()).isEqualTo(3.0);
    assertThat(spec.memoryBytes()).isEqualTo(8L << 30);
    assertThat(spec.accessCycles()).isEqualTo(4);
    assertThat(spec.quantumCycles()).isZero();
    assertThat(spec.tlbLevels()).extracting(TlbLevelSpec::name).containsExactly("l1i", "l1d", "l2");
    TlbLevelSpec l1i = spec.tlbLevels().get(0);
    assertThat(l1i.serves()).isEqualTo(Serves.INSTRUCTION);
    assertThat(l1i.entries()).isEqualTo(48);
    assertThat(l1i.sets()).isEqualTo(1);
    TlbLevelSpec l2 = spec.tlbLevels().get(2);
    assertThat(l2.serves()).isEqualTo(Serves.UNIFIED);
    assertThat(l2.entries()).isEqualTo(1280);
    assertThat(l2.ways()).isEqualTo(5);
    assertThat(l2.hitCycles()).isEqualTo(5);
    assertThat(l2.replacement()).isEqualTo(Replacement.PLRU);
    assertThat(l2.pageSizesBytes())
        .containsExactly(4096L, 64L << 10, 2L << 20, 32L << 20, 1L << 30);
    assertThat(spec.walker().memoryRefCycles()).containsExactly(20, 20, 20, 20);
    assertThat(spec.walker().walkCaches())
        .containsExactly(
            new WalkCacheSpec(0, 2), new WalkCacheSpec(1, 4), new WalkCacheSpec(2, 32));
    assertThat(spec.isaSection().pointer()).isEqualTo("/arm64");
    assertThat(spec.isaSection().getLong("asidBits", 0)).isEqualTo(16);
    assertThat(spec.kernelSection().section("costs").getLong("pteWriteCycles", 0)).isEqualTo(5);
    assertThat(loaded.provenanceOf("/tlb/levels/2/entries")).startsWith("D ").contains("A76-TRM");
    assertThat(loaded.provenanceOf("/tlb/levels/2/hitCycles")).startsWith("E ");
  }

  @Test
  void skylake_bindsTheDocumentedGeometry() {
    MachineSpec spec = LOADER.load("x86-skylake").spec();

    assertThat(spec.isa()).isEqualTo("x86");
    assertThat(spec.tlbLevels())
        .extracting(TlbLevelSpec::name)
        .containsExactly("l1i", "l1d", "stlb");
    TlbLevelSpec l1d = spec.tlbLevels().get(1);
    assertThat(l1d.entries()).isEqualTo(64);
    assertThat(l1d.ways()).isEqualTo(4);
    assertThat(l1d.pageSizesBytes()).containsExactly(4096L, 2L << 20, 1L << 30);
    TlbLevelSpec stlb = spec.tlbLevels().get(2);
    assertThat(stlb.entries()).isEqualTo(1536);
    assertThat(stlb.ways()).isEqualTo(12);
    assertThat(stlb.sets()).isEqualTo(128);
    assertThat(stlb.hitCycles()).isEqualTo(9);
    assertThat(spec.walker().walkCaches())
        .extracting(WalkCacheSpec::entries)
        .containsExactly(2, 4, 32);
    assertThat(spec.isaSection().section("costs").getLong("invlpgCycles", 0)).isEqualTo(250);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake", "x86-zen4"})
  void everyValue_hasATaggedProvenance(String name) throws IOException {
    LoadedMachine loaded = LOADER.load(name);
    JsonNode root =
        JsonSupport.STRICT.readTree(Files.readString(Path.of("machines", name + ".json")));
    List<String> uncovered = new ArrayList<>();
    collectLeaves(root, "", uncovered);
    uncovered.removeIf(
        p ->
            p.equals("/name")
                || p.equals("/description")
                || p.startsWith("/provenance/")
                || loaded.provenanceOf(p) != null);
    assertThat(uncovered).isEmpty();
    assertThat(loaded.provenance().values()).allMatch(v -> v.matches("^[DMXER][ /].*"));
  }

  private static void collectLeaves(JsonNode node, String at, List<String> out) {
    if (node.isObject() && !node.isEmpty()) {
      node.properties()
          .forEach(e -> collectLeaves(e.getValue(), Pointers.child(at, e.getKey()), out));
    } else if (node.isArray() && !node.isEmpty()) {
      for (int i = 0; i < node.size(); i++) {
        collectLeaves(node.get(i), Pointers.child(at, i), out);
      }
    } else {
      out.add(at);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void resolvedJson_reloadsToTheSameMachineAndHash(String name) {
    LoadedMachine first = LOADER.load(name);
    LoadedMachine again = LOADER.loadInline(first.resolvedJson(), List.of());

    assertThat(again.configSha256()).isEqualTo(first.configSha256()).matches("[0-9a-f]{64}");
    assertThat(again.resolvedJson()).isEqualTo(first.resolvedJson());
    assertThat(again.spec()).usingRecursiveComparison().isEqualTo(first.spec());
    assertThat(first.resolvedJson()).endsWith("}\n").contains("\"cores\": 8").doesNotContain("\r");
  }

  @Test
  void defaults_areFilledIntoTheResolvedConfig() {
    LoadedMachine loaded =
        LOADER.loadInline(
            """
        {"name": "tiny", "isa": "x86", "cores": 1, "frequencyGHz": 1, "memoryBytes": 1048576,
         "tlb": {"levels": [{"name": "t", "serves": "unified", "entries": 4, "ways": 4,
                             "pageSizes": [4096], "hitCycles": 0}]}}
        """,
            List.of());

    assertThat(loaded.spec().accessCycles()).isEqualTo(4);
    assertThat(loaded.spec().quantumCycles()).isZero();
    assertThat(loaded.spec().walker().memoryRefCycles()).containsExactly(20);
    assertThat(loaded.spec().walker().walkCacheHitCycles()).isEqualTo(2);
    assertThat(loaded.spec().walker().walkCaches()).isEmpty();
    assertThat(loaded.spec().tlbLevels().get(0).replacement()).isEqualTo(Replacement.LRU);
    assertThat(loaded.spec().description()).isEmpty();
    assertThat(loaded.resolvedJson())
        .contains(
            "\"accessCycles\": 4",
            "\"replacement\": \"lru\"",
            "\"faultEntryCycles\": 500",
            "\"walkCaches\": []");
  }
}
