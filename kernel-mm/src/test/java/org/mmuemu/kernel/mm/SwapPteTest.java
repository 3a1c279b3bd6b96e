package org.mmuemu.kernel.mm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * A NUMA-balancing PROT_NONE leaf is a non-present entry too, and must not read as a
 * device-exclusive entry or a pte marker: on x86 a user leaf's U/S bit sits where the kind field
 * starts, so without the reserved bits a PROT_NONE user PTE would be taken for a device-exclusive
 * one and the fault path would lock a page nobody handed to a device.
 */
final class SwapPteTest {
  @ParameterizedTest
  @ValueSource(strings = {"x86", "arm64"})
  void protNoneUserLeaf_isNeitherADeviceExclusiveEntryNorAMarker(String isa) {
    Machine machine = KernelBoot.on(isa).cores(1).boot().machine();
    PageTableFormat format = machine.format();
    int level = format.levels() - 1;
    for (int flags :
        new int[] {
          PteFlags.USER,
          PteFlags.USER | PteFlags.WRITE,
          PteFlags.USER | PteFlags.WRITE | PteFlags.ACCESSED | PteFlags.DIRTY
        }) {
      long leaf = format.encodeLeaf(0x1234_5000L, level, flags);
      long protNone = format.protNone(leaf, level);

      assertThat(format.isProtNone(protNone, level)).isTrue();
      assertThat(SwapPte.isDeviceExclusive(protNone)).as("flags %x", flags).isFalse();
      assertThat(SwapPte.isMarker(protNone)).as("flags %x", flags).isFalse();
    }
    assertThat(SwapPte.isDeviceExclusive(SwapPte.deviceExclusive(0x1234_5L, true))).isTrue();
    assertThat(SwapPte.isMarker(SwapPte.marker(SwapPte.MARKER_UFFD_WP))).isTrue();
    assertThat(format.isProtNone(SwapPte.deviceExclusive(0x1234_5L, true), level)).isFalse();
  }
}
