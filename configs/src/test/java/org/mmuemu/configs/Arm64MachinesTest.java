package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.configs.TestConfigs.LOADER;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;

/**
 * The two arm64 machines: the keys the arm64 fidelity work added (FEAT_TLBIRANGE, the
 * break-before-make check, barrier and completion costs, kernel variants) are set, bound, and carry
 * provenance like every other value, and the M2 machine has the 4 KiB granule geometry TIMINGS.md
 * gives.
 */
final class Arm64MachinesTest {

  @Test
  void appleM2_bindsTheDocumentedGeometryAndFeatTlbiRange() {
    LoadedMachine loaded = LOADER.load("arm64-apple-m2");
    MachineSpec spec = loaded.spec();

    assertThat(spec.isa()).isEqualTo("arm64");
    assertThat(spec.frequencyGHz()).isEqualTo(3.49);
    assertThat(spec.tlbLevels()).extracting(TlbLevelSpec::entries).containsExactly(192, 256, 3072);
    assertThat(spec.tlbLevels().get(2).ways()).isEqualTo(12);
    assertThat(spec.tlbLevels().get(2).hitCycles()).isEqualTo(6);
    assertThat(spec.tlbLevels().get(1).pageSizesBytes()).contains(64L << 10);
    assertThat(spec.isaSection().getBoolean("tlbiRange", false)).isTrue();
    assertThat(spec.walker().memoryRefCycles().stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(90);
    assertThat(loaded.provenanceOf("/arm64/tlbiRange")).startsWith("R ");
    assertThat(loaded.provenanceOf("/arm64/costs/dsbIshstCycles")).startsWith("X ");
  }

  @Test
  void neoverseN1_hasNoRangeTlbis_andCompletionCostsPerCore() {
    MachineSpec spec = LOADER.load("arm64-neoverse-n1").spec();

    assertThat(spec.isaSection().getBoolean("tlbiRange", true)).isFalse();
    assertThat(spec.isaSection().section("costs").getLong("broadcastCompletionPerCoreCycles", 0))
        .isEqualTo(15);
    assertThat(spec.kernelSection().section("variants").getString("oomReaperGather", null))
        .isEqualTo("perVma");
  }

  @Test
  void everyArm64Value_hasATaggedProvenance() throws IOException {
    for (String name : List.of("arm64-apple-m2", "arm64-neoverse-n1")) {
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

      assertThat(uncovered).as(name).isEmpty();
      assertThat(loaded.provenance().values()).as(name).allMatch(v -> v.matches("^[DMXER][ /].*"));
    }
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
}
