package org.mmuemu.isa.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PageTableFormatContract;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.MachineTranslationContract;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;

/**
 * 5-level paging ({@code /x86/levels} 5; Intel SDM Vol. 3 §4.5, CR4.LA57): a PML5 above the PML4,
 * 57-bit linear addresses, PS reserved in PML5 and PML4 entries, pages at the PDPT, PD and PT
 * levels. The shared contracts run on it as they do on 4-level paging.
 */
final class X86FiveLevelTest {

  @Nested
  final class Format extends PageTableFormatContract {
    private final X86PageTableFormat format = new X86PageTableFormat(5);

    @Override
    protected PageTableFormat format() {
      return format;
    }

    @Override
    protected int expectedLevels() {
      return 5;
    }

    @Override
    protected Set<Integer> expectedLeafLevels() {
      return Set.of(2, 3, 4);
    }

    @Test
    void pageSizeBit_isReservedInPml5AndPml4Entries() {
      long entry = 0x5000L | X86PageTableFormat.PRESENT | X86PageTableFormat.PAGE_SIZE;

      assertThat(format.isValid(entry, 0)).isFalse();
      assertThat(format.isValid(entry, 1)).isFalse();
      assertThat(format.isLeaf(entry, 2)).as("a 1 GiB page").isTrue();
      assertThat(format.levelShift(0)).isEqualTo(48);
    }
  }

  @Nested
  final class Translation extends MachineTranslationContract {
    @Override
    protected IsaProvider provider() {
      return IsaRegistry.load().get("x86");
    }

    @Override
    protected Map<String, Object> isaConfig() {
      return Map.of(
          "levels",
          5,
          "costs",
          Map.of("invlpgCycles", 11, "invpcidContextCycles", 13, "invpcidAllCycles", 17));
    }

    @Override
    protected List<Integer> expectedLeafLevels() {
      return List.of(2, 3, 4);
    }

    @Override
    protected List<NamedInstruction> localInstructions() {
      return List.of(
          new NamedInstruction(InvalidationScope.VA, false, "INVLPG"),
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
        case VA, VA_ALL_ASIDS -> 11;
        case ASID -> 13;
        case ALL, ALL_NON_GLOBAL -> 17;
      };
    }

    @Override
    protected boolean hasLastLevelOnlyInvalidation() {
      return false;
    }

    @Override
    protected String expectedSurvivors(InvalidationScope scope) {
      return scope == InvalidationScope.VA_ALL_ASIDS ? "BGa" : super.expectedSurvivors(scope);
    }

    @Test
    void vaAbove47Bits_translatesInFiveReads() {
      long va = 0x00FF_0000_0000_0000L; // needs the PML5 index
      long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
      tables.map(root, va, pa, 4, PteFlags.USER | PteFlags.ACCESSED);

      assertThat(machine.isa().regime().vaBits()).isEqualTo(57);
      assertThat(machine.translate(0, va + 8, AccessKind.READ)).isEqualTo(pa + 8);
      assertThat(machine.stats().walkMemoryRefs()).isEqualTo(5);
    }
  }
}
