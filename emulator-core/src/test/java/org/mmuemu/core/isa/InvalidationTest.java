package org.mmuemu.core.isa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class InvalidationTest {

  @ParameterizedTest
  @EnumSource(InvalidationScope.class)
  void factoriesAndWithers_returnTheSameInternedValue(InvalidationScope scope) {
    Invalidation local = Invalidation.local(scope);

    assertThat(Invalidation.local(scope)).isSameAs(local);
    assertThat(Invalidation.broadcast(scope))
        .isSameAs(Invalidation.of(scope, true, false, false, 12));
    assertThat(local.withStrideShift(21).withStrideShift(12)).isSameAs(local);
    assertThat(local.broadcast()).isFalse();
    assertThat(local.strideShift()).isEqualTo(Invalidation.MIN_STRIDE_SHIFT);
  }

  @Test
  void lastLevelAndRangeForms_areInternedByVa() {
    Invalidation op =
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true).withRange(true);

    assertThat(op).isSameAs(Invalidation.of(InvalidationScope.VA, true, true, true, 12));
    assertThat(op.lastLevelOnly()).isTrue();
    assertThat(op.range()).isTrue();
    assertThat(op).hasToString("broadcast va last-level range");
    assertThat(op.withStrideShift(21)).hasToString("broadcast va last-level range stride 2^21");
  }

  @Test
  void lastLevelOrRangeForm_ofAnAddressSpaceScope_doesNotExist() {
    assertThatThrownBy(() -> Invalidation.local(InvalidationScope.ASID).withLastLevelOnly(true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ASID invalidation has no last-level form");
    assertThatThrownBy(() -> Invalidation.broadcast(InvalidationScope.ALL).withRange(true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ALL invalidation has no range form");
  }

  @Test
  void strideOutsideFourKibToTwoPow47_isRejected() {
    assertThatThrownBy(() -> Invalidation.local(InvalidationScope.VA).withStrideShift(11))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("strideShift: 11");
    assertThatThrownBy(() -> Invalidation.local(InvalidationScope.VA).withStrideShift(48))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("strideShift: 48");
  }

  @Test
  void withScope_dropsForms_theNewScopeCannotHave() {
    Invalidation op = Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true);

    assertThat(op.withScope(InvalidationScope.ALL))
        .isSameAs(Invalidation.broadcast(InvalidationScope.ALL));
    assertThat(op.withScope(InvalidationScope.VA_ALL_ASIDS).lastLevelOnly()).isTrue();
  }
}
