package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.MachineTranslationContract;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.testkit.SmallMachines;

/**
 * The arm64 ISA, found through {@link IsaRegistry} as the app finds it, against the shared {@link
 * MachineTranslationContract}: {@code TLBI} names (the {@code L} forms last-level only, the {@code
 * IS} forms broadcast), the configured TLBI costs, and TTBR0/TTBR1 selection.
 */
final class Arm64MachineTranslationTest extends MachineTranslationContract {
  private static final long TLBI_CYCLES = 7;
  private static final long TLBI_ALL_CYCLES = 43;

  @Override
  protected IsaProvider provider() {
    return IsaRegistry.load().get("arm64");
  }

  @Override
  protected Map<String, Object> isaConfig() {
    return Map.of(
        "asidBits",
        16,
        "costs",
        Map.of("tlbiCycles", TLBI_CYCLES, "tlbiAllCycles", TLBI_ALL_CYCLES));
  }

  @Override
  protected List<Integer> expectedLeafLevels() {
    return List.of(1, 2, 3);
  }

  @Override
  protected List<NamedInstruction> localInstructions() {
    return List.of(
        new NamedInstruction(InvalidationScope.VA, false, "TLBI VAE1"),
        new NamedInstruction(InvalidationScope.VA, true, "TLBI VALE1"),
        new NamedInstruction(InvalidationScope.VA_ALL_ASIDS, false, "TLBI VAAE1"),
        new NamedInstruction(InvalidationScope.VA_ALL_ASIDS, true, "TLBI VAALE1"),
        new NamedInstruction(InvalidationScope.ASID, false, "TLBI ASIDE1"),
        new NamedInstruction(InvalidationScope.ALL, false, "TLBI VMALLE1"));
  }

  @Override
  protected List<NamedInstruction> broadcastInstructions() {
    return List.of(
        new NamedInstruction(InvalidationScope.VA, false, "TLBI VAE1IS"),
        new NamedInstruction(InvalidationScope.VA, true, "TLBI VALE1IS"),
        new NamedInstruction(InvalidationScope.VA_ALL_ASIDS, false, "TLBI VAAE1IS"),
        new NamedInstruction(InvalidationScope.VA_ALL_ASIDS, true, "TLBI VAALE1IS"),
        new NamedInstruction(InvalidationScope.ASID, false, "TLBI ASIDE1IS"),
        new NamedInstruction(InvalidationScope.ALL, false, "TLBI VMALLE1IS"));
  }

  @Override
  protected long expectedIssueCycles(InvalidationScope scope, boolean broadcast) {
    return scope == InvalidationScope.VA || scope == InvalidationScope.VA_ALL_ASIDS
        ? TLBI_CYCLES
        : TLBI_ALL_CYCLES;
  }

  @Override
  protected boolean hasLastLevelOnlyInvalidation() {
    return true;
  }

  @Test
  void kernelVa_translatesThroughTtbr1_userVaThroughTtbr0() {
    long userRoot = tables.newTable();
    long kernelRoot = tables.newTable();
    machine.core(0).context().setUser(userRoot << PhysicalMemory.FRAME_SHIFT, ASID);
    machine.core(0).context().setKernelRoot(kernelRoot << PhysicalMemory.FRAME_SHIFT);
    long kernelVa = 0xFFFF_8000_0010_0000L;
    long userVa = 0x0000_0000_0010_0000L; // the same table indexes below the root
    long kernelPa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    long userPa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(kernelRoot, kernelVa, kernelPa, 3, PteFlags.WRITE | PteFlags.GLOBAL);
    tables.map(userRoot, userVa, userPa, 3, USER_RW);

    assertThat(machine.translate(0, kernelVa, AccessKind.READ)).isEqualTo(kernelPa);
    assertThat(machine.translate(0, userVa, AccessKind.READ)).isEqualTo(userPa);
  }

  @Test
  void config_rejectsAnAsidWidthArm64DoesNotHave() {
    ConfigSection section = SmallMachines.isaSection("arm64", Map.of("asidBits", 12));

    assertThat(provider().validate(section))
        .extracting(Object::toString)
        .containsExactly("/arm64/asidBits: 12 (expected: 8 or 16)");
  }

  /** VMALLE1 has no form that spares global entries: "all but global" removes them too. */
  @Override
  protected String expectedSurvivors(InvalidationScope scope) {
    return scope == InvalidationScope.ALL_NON_GLOBAL ? "" : super.expectedSurvivors(scope);
  }
}
