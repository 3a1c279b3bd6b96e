package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.ArchKernelMappings;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * The barriers after kernel PTE writes, in both variants of {@code lazyMmuBarrierBatching}
 * (DOMAIN.md §4.5): off, every valid kernel PTE write pays {@code DSB ISHST; ISB}; on, writes
 * inside a lazy-MMU section pay one pair when the section ends, and writes outside still pay their
 * own. The saving is what the 2025 patch measured.
 */
final class Arm64KernelMappingsTest {

  private static Map<String, Long> publishSixteenPtesInALazySection(String variant) {
    Kernel kernel =
        KernelBoot.on("arm64")
            .cores(1)
            .contpteTlbs()
            .variants(Map.of("lazyMmuBarrierBatching", variant))
            .boot();
    ArchKernelMappings mappings = kernel.arch().kernelMappings();
    mappings.enterLazyMmu(0);
    for (int i = 0; i < 16; i++) {
      mappings.setKernelPte(0);
    }
    mappings.leaveLazyMmu(0);
    return kernel.machine().stats().instructionCounts();
  }

  @Test
  void batchingOff_paysABarrierPairPerPte() {
    assertThat(publishSixteenPtesInALazySection("off"))
        .containsExactly(Map.entry("DSB ISHST", 16L), Map.entry("ISB", 16L));
  }

  @Test
  void batchingOn_paysOnePairAtTheEndOfTheSection() {
    assertThat(publishSixteenPtesInALazySection("on"))
        .containsExactly(Map.entry("DSB ISHST", 1L), Map.entry("ISB", 1L));
  }

  @Test
  void batchingOn_outsideALazySection_stillPaysPerPte() {
    Kernel kernel =
        KernelBoot.on("arm64")
            .cores(1)
            .contpteTlbs()
            .variants(Map.of("lazyMmuBarrierBatching", "on"))
            .boot();
    ArchKernelMappings mappings = kernel.arch().kernelMappings();

    mappings.setKernelPte(0);
    mappings.setKernelPte(0);
    mappings.enterLazyMmu(0);
    mappings.leaveLazyMmu(0);

    assertThat(kernel.machine().stats().instructionCounts())
        .containsExactly(Map.entry("DSB ISHST", 2L), Map.entry("ISB", 2L));
    assertThat(mappings.kernelPtePublishes()).isEqualTo(2);
  }

  @Test
  void defaultVariants_areOff() {
    KernelVariants variants =
        KernelBoot.on("arm64").cores(1).contpteTlbs().boot().config().variants();
    assertThat(variants.lazyMmuBarrierBatching()).isEqualTo(KernelVariants.OnOff.OFF);
    assertThat(variants.oomReaperGather()).isEqualTo(KernelVariants.OomReaperGather.PER_VMA);
  }
}
