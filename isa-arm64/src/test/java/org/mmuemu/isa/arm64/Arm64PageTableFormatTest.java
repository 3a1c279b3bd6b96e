package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PageTableFormatContract;
import org.mmuemu.core.isa.PteFlags;

/**
 * VMSAv8-64 4 KiB-granule descriptors against the shared {@link PageTableFormatContract}, plus the
 * encodings only arm64 has: block versus page type bits, the reserved block encodings at levels 0
 * and 3, the contiguous bit, and the split execute-never bits (Arm ARM D8.3).
 */
final class Arm64PageTableFormatTest extends PageTableFormatContract {
  private final Arm64PageTableFormat format = new Arm64PageTableFormat();

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
  void typeBits_tableAndPageAre0b11_blockIs0b01() {
    assertThat(format.encodeTable(0x5000, 0) & 0b11).isEqualTo(0b11);
    assertThat(format.encodeLeaf(0x5000, 3, PteFlags.WRITE) & 0b11).isEqualTo(0b11);
    assertThat(format.encodeLeaf(1L << 21, 2, PteFlags.WRITE) & 0b11).isEqualTo(0b01);
    assertThat(format.encodeLeaf(1L << 30, 1, PteFlags.WRITE) & 0b11).isEqualTo(0b01);
  }

  @Test
  void blockEncodingAtLevel0OrLevel3_isReservedAndInvalid() {
    long block = (1L << 30) | Arm64PageTableFormat.VALID | Arm64PageTableFormat.ACCESS_FLAG;

    assertThat(format.isValid(block, 0)).isFalse();
    assertThat(format.isValid(block, 3)).isFalse();
    assertThat(format.isValid(block, 1)).isTrue();
    assertThat(format.isLeaf(block, 1)).isTrue();
    assertThat(format.isValid(block, 2)).isTrue();
  }

  @Test
  void descriptorWithoutTheValidBit_isInvalidAtEveryLevel() {
    long page = format.encodeLeaf(0x7000, 3, PteFlags.WRITE) & ~Arm64PageTableFormat.VALID;
    long table = format.encodeTable(0x7000, 0) & ~Arm64PageTableFormat.VALID;

    for (int level = 0; level < 4; level++) {
      assertThat(format.isValid(page, level)).isFalse();
      assertThat(format.isValid(table, level)).isFalse();
    }
  }

  @Test
  void contiguousFlag_roundTripsAtEveryLeafLevel() {
    for (int level = 1; level < 4; level++) {
      long pa = 1L << format.levelShift(level);
      long descriptor = format.encodeLeaf(pa, level, PteFlags.WRITE | PteFlags.CONTIGUOUS);

      assertThat(descriptor & Arm64PageTableFormat.CONTIGUOUS).isNotZero();
      assertThat(format.flags(descriptor, level)).isEqualTo(PteFlags.WRITE | PteFlags.CONTIGUOUS);
      assertThat(format.outputPa(descriptor, level)).isEqualTo(pa);
    }
  }

  @Test
  void executableUserPage_isNeverExecutableByTheKernel() {
    long descriptor = format.encodeLeaf(0x7000, 3, PteFlags.USER | PteFlags.EXEC);

    assertThat(descriptor & Arm64PageTableFormat.PXN).isNotZero();
    assertThat(descriptor & Arm64PageTableFormat.UXN).isZero();
    assertThat(descriptor & Arm64PageTableFormat.AP_EL0).isNotZero();
  }

  @Test
  void executableKernelPage_isNeverExecutableByTheUser() {
    long descriptor = format.encodeLeaf(0x7000, 3, PteFlags.EXEC);

    assertThat(descriptor & Arm64PageTableFormat.UXN).isNotZero();
    assertThat(descriptor & Arm64PageTableFormat.PXN).isZero();
  }

  @Test
  void neutralFlags_mapToTheArchitecturalBits() {
    long readOnlyNonGlobal = format.encodeLeaf(0x7000, 3, PteFlags.ACCESSED);
    long writableGlobalDirty =
        format.encodeLeaf(0x7000, 3, PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.DIRTY);

    assertThat(readOnlyNonGlobal & Arm64PageTableFormat.AP_READ_ONLY).isNotZero();
    assertThat(readOnlyNonGlobal & Arm64PageTableFormat.NOT_GLOBAL).isNotZero();
    assertThat(readOnlyNonGlobal & Arm64PageTableFormat.ACCESS_FLAG).isNotZero();
    assertThat(readOnlyNonGlobal & (Arm64PageTableFormat.PXN | Arm64PageTableFormat.UXN))
        .isEqualTo(Arm64PageTableFormat.PXN | Arm64PageTableFormat.UXN);
    assertThat(writableGlobalDirty & Arm64PageTableFormat.AP_READ_ONLY).isZero();
    assertThat(writableGlobalDirty & Arm64PageTableFormat.NOT_GLOBAL).isZero();
    assertThat(writableGlobalDirty & Arm64PageTableFormat.DBM).isNotZero();
  }

  @Test
  void dirtyState_followsLinuxWithHardwareDbm() {
    long writableClean = format.encodeLeaf(0x7000, 3, PteFlags.WRITE);
    long writableDirty = format.encodeLeaf(0x7000, 3, PteFlags.WRITE | PteFlags.DIRTY);
    long readOnlyDirty = format.encodeLeaf(0x7000, 3, PteFlags.DIRTY);

    // Writable and clean: DBM set, AP[2] still read-only; the hardware clears AP[2] on a store.
    assertThat(writableClean & (Arm64PageTableFormat.DBM | Arm64PageTableFormat.AP_READ_ONLY))
        .isEqualTo(Arm64PageTableFormat.DBM | Arm64PageTableFormat.AP_READ_ONLY);
    assertThat(writableDirty & (Arm64PageTableFormat.DBM | Arm64PageTableFormat.AP_READ_ONLY))
        .isEqualTo(Arm64PageTableFormat.DBM);
    // Write-protected but dirty: the dirtiness moves to the software bit.
    assertThat(readOnlyDirty & (Arm64PageTableFormat.DBM | Arm64PageTableFormat.SW_DIRTY))
        .isEqualTo(Arm64PageTableFormat.SW_DIRTY);
    assertThat(format.flags(writableClean & ~Arm64PageTableFormat.AP_READ_ONLY, 3))
        .isEqualTo(PteFlags.WRITE | PteFlags.DIRTY);
    assertThat(format.setsDirtyInHardware()).isTrue();
  }
}
