package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.configs.TestConfigs.LOADER;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.isa.MaintenanceInstructions;

/**
 * The shipped x86 machines bind the hardware features each one has (INVLPGB only on Zen 4, PTI only
 * where Linux enables it), and their resolved form reloads to the same machine.
 */
final class X86MachineConfigsTest {

  private static MaintenanceInstructions maintenance(MachineSpec spec) {
    return IsaRegistry.load().get("x86").create(spec.isaSection()).maintenance();
  }

  @Test
  void zen4_hasInvlpgb_separateInstructionAndDataTlbs_andNoPti() {
    LoadedMachine loaded = LOADER.load("x86-zen4");
    MachineSpec spec = loaded.spec();

    assertThat(spec.cores()).isEqualTo(16);
    assertThat(spec.tlbLevels())
        .extracting(TlbLevelSpec::name)
        .containsExactly("l1i", "l2i", "l1d", "l2d");
    assertThat(spec.tlbLevels().get(3).entries()).isEqualTo(3072);
    assertThat(maintenance(spec).hasBroadcast()).isTrue();
    assertThat(maintenance(spec).broadcastRangeMaxPages()).isEqualTo(8);
    assertThat(spec.kernelSection().section("variants").getString("x86Pti", null)).isEqualTo("off");
    assertThat(loaded.provenanceOf("/x86/invlpgb")).startsWith("D ");
  }

  @Test
  void skylake_hasNoBroadcast_runsWithPti_andTheLinuxCeiling() {
    MachineSpec spec = LOADER.load("x86-skylake").spec();

    assertThat(maintenance(spec).hasBroadcast()).isFalse();
    assertThat(spec.kernelSection().section("variants").getString("x86Pti", null)).isEqualTo("on");
    assertThat(spec.kernelSection().section("costs").getLong("tlbSinglePageFlushCeilingPages", 0))
        .isEqualTo(33);
  }

  @Test
  void zen4_resolvedJson_reloadsToTheSameMachineAndHash() {
    LoadedMachine first = LOADER.load("x86-zen4");
    LoadedMachine again = LOADER.loadInline(first.resolvedJson(), List.of());

    assertThat(again.configSha256()).isEqualTo(first.configSha256());
    assertThat(again.spec()).usingRecursiveComparison().isEqualTo(first.spec());
  }
}
