package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.kernel.Kernel;

/**
 * The barriers after kernel PTE writes, in both variants of {@code lazyMmuBarrierBatching}
 * (DOMAIN.md §4.5): off, every valid kernel PTE write pays {@code DSB ISHST; ISB}; on, writes
 * inside a lazy-MMU section pay one pair when the section ends, and writes outside still pay
 * their own. The saving is what the 2025 patch measured.
 */
final class Arm64KernelMappingsTest {

  private static Map<String, Long> mapSixteenPagesInALazySection(String variant) {
    Kernel kernel = Arm64Kernels.boot(1, Map.of(), Map.of("lazyMmuBarrierBatching", variant));
    Arm64TlbPolicy policy = Arm64Kernels.policy(kernel);
    policy.enterLazyMmu(0);
    for (int i = 0; i < 16; i++) {
      policy.setKernelPte(0);
    }
    policy.leaveLazyMmu(0);
    return kernel.machine().stats().instructionCounts();
  }

  @Test
  void batchingOff_paysABarrierPairPerPte() {
    assertThat(mapSixteenPagesInALazySection("off")).containsExactly(Map.entry("DSB ISHST", 16L),
        Map.entry("ISB", 16L));
  }

  @Test
  void batchingOn_paysOnePairAtTheEndOfTheSection() {
    assertThat(mapSixteenPagesInALazySection("on")).containsExactly(Map.entry("DSB ISHST", 1L),
        Map.entry("ISB", 1L));
  }

  @Test
  void batchingOn_outsideALazySection_stillPaysPerPte() {
    Kernel kernel = Arm64Kernels.boot(1, Map.of(), Map.of("lazyMmuBarrierBatching", "on"));
    Arm64TlbPolicy policy = Arm64Kernels.policy(kernel);

    policy.setKernelPte(0);
    policy.setKernelPte(0);
    policy.enterLazyMmu(0);
    policy.leaveLazyMmu(0);

    assertThat(kernel.machine().stats().instructionCounts()).containsExactly(Map.entry("DSB ISHST", 2L),
        Map.entry("ISB", 2L));
  }

  @Test
  void defaultVariant_isOff() {
    assertThat(Arm64Kernels.boot(1).config().variants()).containsEntry("lazyMmuBarrierBatching", "off")
        .containsEntry("oomReaperGather", "perVma");
  }
}
