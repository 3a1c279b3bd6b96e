package org.mmuemu.isa.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PageTableFormatContract;
import org.mmuemu.core.isa.PteFlags;

/**
 * x86-64 4-level paging entries against the shared {@link PageTableFormatContract}, plus the
 * encodings only x86 has: PS at the PML4 level, the PAT bit inside a large page's address field, NX
 * in bit 63, and table entries that leave permissions to the leaf (Intel SDM Vol. 3 §4.5).
 */
final class X86PageTableFormatTest extends PageTableFormatContract {
  private final X86PageTableFormat format = new X86PageTableFormat();

  @Override
  protected PageTableFormat format() {
    return format;
  }

  @Override
  protected int expectedLevels() {
    return 4;
  }

  @Override
  protected Set<Integer> expectedLeafLevels() {
    return Set.of(1, 2, 3);
  }

  @Test
  void pageSizeBitInAPml4Entry_isReservedAndInvalid() {
    long entry = 0x5000L | X86PageTableFormat.PRESENT | X86PageTableFormat.PAGE_SIZE;

    assertThat(format.isValid(entry, 0)).isFalse();
    assertThat(format.isValid(entry, 1)).isTrue();
    assertThat(format.isLeaf(entry, 1)).isTrue();
    assertThat(format.isLeaf(entry, 2)).isTrue();
  }

  @Test
  void largePagesCarryThePageSizeBit_4KibPagesDoNot() {
    assertThat(format.encodeLeaf(1L << 30, 1, PteFlags.WRITE) & X86PageTableFormat.PAGE_SIZE)
        .isNotZero();
    assertThat(format.encodeLeaf(1L << 21, 2, PteFlags.WRITE) & X86PageTableFormat.PAGE_SIZE)
        .isNotZero();
    assertThat(format.encodeLeaf(1L << 12, 3, PteFlags.WRITE) & X86PageTableFormat.PAGE_SIZE)
        .isZero();
  }

  @Test
  void patBitOfALargePage_isNotPartOfTheOutputAddress() {
    long pa = 3L << 21;
    long withPat = format.encodeLeaf(pa, 2, PteFlags.WRITE) | (1L << 12);

    assertThat(format.outputPa(withPat, 2)).isEqualTo(pa);
    assertThat(format.outputPa(format.encodeLeaf(0x7000, 3, 0) | (1L << 12), 3)).isEqualTo(0x7000);
  }

  @Test
  void tableEntries_arePresentWritableAndUser_soTheLeafDecides() {
    long table = format.encodeTable(0x9000, 0);

    assertThat(table & X86PageTableFormat.PRESENT).isNotZero();
    assertThat(table & X86PageTableFormat.READ_WRITE).isNotZero();
    assertThat(table & X86PageTableFormat.USER).isNotZero();
    assertThat(table & X86PageTableFormat.PAGE_SIZE).isZero();
  }

  @Test
  void neutralFlags_mapToTheArchitecturalBits() {
    long kernelData = format.encodeLeaf(0x7000, 3, PteFlags.WRITE | PteFlags.GLOBAL);
    long userText =
        format.encodeLeaf(
            0x7000, 3, PteFlags.USER | PteFlags.EXEC | PteFlags.ACCESSED | PteFlags.DIRTY);

    assertThat(kernelData & X86PageTableFormat.EXECUTE_DISABLE).isNotZero();
    assertThat(kernelData & X86PageTableFormat.GLOBAL).isNotZero();
    assertThat(kernelData & X86PageTableFormat.USER).isZero();
    assertThat(userText & X86PageTableFormat.EXECUTE_DISABLE).isZero();
    assertThat(userText & X86PageTableFormat.READ_WRITE).isZero();
    assertThat(userText & (X86PageTableFormat.ACCESSED | X86PageTableFormat.DIRTY))
        .isEqualTo(X86PageTableFormat.ACCESSED | X86PageTableFormat.DIRTY);
  }

  @Test
  void contiguousHint_hasNoX86Encoding() {
    long descriptor = format.encodeLeaf(0x7000, 3, PteFlags.WRITE | PteFlags.CONTIGUOUS);

    assertThat(format.flags(descriptor, 3)).isEqualTo(PteFlags.WRITE);
  }
}
