package org.mmuemu.isa.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.Invalidation;
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
 * The x86 ISA, found through {@link IsaRegistry} as the app finds it, against the shared {@link
 * MachineTranslationContract}: {@code INVLPG} and {@code INVPCID} types 1-3 with the configured
 * costs, no broadcast invalidation, no last-level-only form (Intel SDM Vol. 3 §4.10.4: INVLPG and
 * INVPCID also drop paging-structure-cache entries), and one CR3 for both halves of the address
 * space.
 */
final class X86MachineTranslationTest extends MachineTranslationContract {
  private static final long INVLPG_CYCLES = 11;
  private static final long INVPCID_CONTEXT_CYCLES = 13;
  private static final long INVPCID_ALL_CYCLES = 17;

  @Override
  protected IsaProvider provider() {
    return IsaRegistry.load().get("x86");
  }

  @Override
  protected Map<String, Object> isaConfig() {
    return Map.of(
        "pcid",
        true,
        "costs",
        Map.of(
            "invlpgCycles",
            INVLPG_CYCLES,
            "invpcidContextCycles",
            INVPCID_CONTEXT_CYCLES,
            "invpcidAllCycles",
            INVPCID_ALL_CYCLES));
  }

  @Override
  protected List<Integer> expectedLeafLevels() {
    return List.of(1, 2, 3);
  }

  @Override
  protected List<NamedInstruction> localInstructions() {
    return List.of(
        new NamedInstruction(InvalidationScope.VA, false, "INVLPG"),
        new NamedInstruction(InvalidationScope.VA, true, "INVLPG"),
        new NamedInstruction(InvalidationScope.ASID, false, "INVPCID type 1"),
        new NamedInstruction(InvalidationScope.ALL, false, "INVPCID type 2"),
        new NamedInstruction(InvalidationScope.ALL_NON_GLOBAL, false, "INVPCID type 3"));
  }

  @Override
  protected List<NamedInstruction> broadcastInstructions() {
    return List.of();
  }

  @Override
  protected long expectedIssueCycles(InvalidationScope scope, boolean broadcast) {
    return switch (scope) {
      case VA, VA_ALL_ASIDS -> INVLPG_CYCLES;
      case ASID -> INVPCID_CONTEXT_CYCLES;
      case ALL, ALL_NON_GLOBAL -> INVPCID_ALL_CYCLES;
    };
  }

  @Override
  protected boolean hasLastLevelOnlyInvalidation() {
    return false;
  }

  @Test
  void kernelVa_translatesThroughTheSingleCr3Root() {
    long cr3Root = tables.newTable();
    machine.core(0).context().setUser(cr3Root << PhysicalMemory.FRAME_SHIFT, ASID);
    machine.core(0).context().setKernelRoot(0);
    long kernelVa = 0xFFFF_8880_0010_0000L;
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(cr3Root, kernelVa, pa, 3, PteFlags.WRITE | PteFlags.GLOBAL);

    assertThat(machine.translate(0, kernelVa + 0x10, AccessKind.READ)).isEqualTo(pa + 0x10);
  }

  @Test
  void broadcastName_isRejected() {
    assertThatThrownBy(
            () ->
                machine
                    .isa()
                    .maintenance()
                    .name(Invalidation.broadcast(InvalidationScope.VA), true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("/x86/invlpgb");
  }

  @Test
  void pcidOff_leavesNoTagBits() {
    IsaProvider x86 = provider();
    var section = SmallMachines.isaSection("x86", Map.of("pcid", false));

    assertThat(x86.validate(section)).isEmpty();
    assertThat(x86.create(section).regime().asidBits()).isZero();
  }

  /**
   * INVLPG reaches only the current PCID (and global entries): x86 cannot invalidate a VA in every
   * PCID.
   */
  @Override
  protected String expectedSurvivors(InvalidationScope scope) {
    return scope == InvalidationScope.VA_ALL_ASIDS ? "BGa" : super.expectedSurvivors(scope);
  }
}
