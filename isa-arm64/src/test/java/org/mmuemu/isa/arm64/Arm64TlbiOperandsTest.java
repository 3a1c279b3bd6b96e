package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The architectural TLBI operand encodings (DOMAIN.md §4.1): every SCALE/NUM pair of a range
 * operand must decode to the range it encodes, user and kernel VAs must survive the BADDR and VA
 * fields' sign extension, and exactly the even lengths the formula produces are encodable. Linux's
 * range loop and the machine's range check both rely on these.
 */
final class Arm64TlbiOperandsTest {
  private static final long USER_VA = 0x0000_7F12_3456_7000L;
  private static final long KERNEL_VA = 0xFFFF_8000_1234_5000L;

  @Test
  void rangeOperand_everyScaleAndNum_roundTripsItsFieldsAndRange() {
    for (long va : new long[] {USER_VA, KERNEL_VA, 0x1000L}) {
      for (int scale = 0; scale <= 3; scale++) {
        for (int num = 0; num <= 31; num++) {
          long operand = Arm64TlbiOperands.encodeRange(0xBEEF, scale, num, 3, va);

          assertThat(Arm64TlbiOperands.asid(operand)).isEqualTo(0xBEEF);
          assertThat(Arm64TlbiOperands.rangeTg(operand)).isEqualTo(Arm64TlbiOperands.TG_4K);
          assertThat(Arm64TlbiOperands.rangeScale(operand)).isEqualTo(scale);
          assertThat(Arm64TlbiOperands.rangeNum(operand)).isEqualTo(num);
          assertThat(Arm64TlbiOperands.rangeTtl(operand)).isEqualTo(3);
          assertThat(Arm64TlbiOperands.rangeStartVa(operand)).isEqualTo(va);
          assertThat(Arm64TlbiOperands.rangeEndVa(operand) - va)
              .isEqualTo(((long) (num + 1) << (5 * scale + 1)) << 12);
        }
      }
    }
  }

  @Test
  void rangePages_spansTwoPagesToTwoToTheTwentyFirst() {
    assertThat(Arm64TlbiOperands.rangePages(0, 0)).isEqualTo(2);
    assertThat(Arm64TlbiOperands.rangePages(0, 31)).isEqualTo(64);
    assertThat(Arm64TlbiOperands.rangePages(1, 0)).isEqualTo(64);
    assertThat(Arm64TlbiOperands.rangePages(2, 5)).isEqualTo(6L << 11);
    assertThat(Arm64TlbiOperands.MAX_RANGE_PAGES).isEqualTo(1L << 21);
  }

  @Test
  void scaleNumFor_findsAnEncodingExactlyWhenTheFormulaHasOne() {
    for (long pages = 0; pages <= 5000; pages++) {
      boolean exists = false;
      for (int scale = 0; scale <= 3 && !exists; scale++) {
        for (int num = 0; num <= 31 && !exists; num++) {
          exists = Arm64TlbiOperands.rangePages(scale, num) == pages;
        }
      }
      int scaleNum = Arm64TlbiOperands.scaleNumFor(pages);

      assertThat(scaleNum >= 0).as("pages %d", pages).isEqualTo(exists);
      if (exists) {
        assertThat(Arm64TlbiOperands.rangePages(scaleNum >>> 5, scaleNum & 31)).isEqualTo(pages);
      }
    }
    assertThat(Arm64TlbiOperands.scaleNumFor(1)).isEqualTo(-1);
    assertThat(Arm64TlbiOperands.scaleNumFor(3)).isEqualTo(-1);
    assertThat(Arm64TlbiOperands.scaleNumFor(1L << 21)).isEqualTo(3 << 5 | 31);
    assertThat(Arm64TlbiOperands.scaleNumFor((1L << 21) + 2)).isEqualTo(-1);
  }

  @Test
  void byVaOperand_roundTripsUserAndKernelVas() {
    for (long va : new long[] {USER_VA, KERNEL_VA}) {
      long operand = Arm64TlbiOperands.encodeVa(42, 0b0111, va);

      assertThat(Arm64TlbiOperands.vaOf(operand)).isEqualTo(va);
      assertThat(Arm64TlbiOperands.asid(operand)).isEqualTo(42);
      assertThat((operand >>> 44) & 0xF).isEqualTo(0b0111);
    }
  }

  @Test
  void encodeRange_rejectsFieldsOutOfRange() {
    assertThatThrownBy(() -> Arm64TlbiOperands.encodeRange(0, 4, 0, 0, 0))
        .hasMessage("scale: 4 (expected: 0 to 3)");
    assertThatThrownBy(() -> Arm64TlbiOperands.encodeRange(0, 0, 32, 0, 0))
        .hasMessage("num: 32 (expected: 0 to 31)");
    assertThatThrownBy(() -> Arm64TlbiOperands.encodeRange(0, 0, 0, 0, 0x800))
        .hasMessage("va: 0x800 (expected: 4 KiB aligned)");
  }
}
