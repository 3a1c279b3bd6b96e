package org.mmuemu.core.trace;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Each kind of name has its own table: ids are stable per name and kinds do not mix. */
final class NameTableTest {

  @Test
  void aNameInternedAsOneKind_isUnknownToTheOther() {
    int tlbi = NameTable.INSTRUCTIONS.idOf("TLBI NAMETABLETEST");
    int operation = NameTable.KERNEL_OPERATIONS.idOf("nametable_test_operation");

    assertThat(NameTable.INSTRUCTIONS.idOf("TLBI NAMETABLETEST")).isEqualTo(tlbi);
    assertThat(NameTable.INSTRUCTIONS.nameOf(tlbi)).isEqualTo("TLBI NAMETABLETEST");
    assertThat(NameTable.KERNEL_OPERATIONS.nameOf(operation)).isEqualTo("nametable_test_operation");
    assertThat(NameTable.INSTRUCTIONS.nameOf(operation)).isNotEqualTo("nametable_test_operation");
    assertThat(NameTable.KERNEL_OPERATIONS.nameOf(tlbi)).isNotEqualTo("TLBI NAMETABLETEST");
    assertThat(NameTable.INSTRUCTIONS.nameOf(Long.MAX_VALUE)).isNull();
  }
}
