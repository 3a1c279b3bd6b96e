package org.mmuemu.kernel.numa;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The 6.4 per-VMA PID filter: a VMA remembers which tasks took hinting faults in it by one bit per
 * PID modulo 64, in two windows, so a task that stops touching a VMA is forgotten after two ageing
 * periods, and PIDs 64 apart cannot be told apart (the false positive Linux accepts).
 */
final class VmaNumabStateTest {
  private static final long DELAY = 1_000;
  private static final long RESET_PERIOD = 4 * DELAY;

  @Test
  void aTaskIsKnownOnlyAfterItsOwnHintingFault() {
    VmaNumabState state = new VmaNumabState(0x2000, 0, DELAY, RESET_PERIOD);

    state.recordAccess(1001);

    assertThat(state.accessedBy(1001)).isTrue();
    assertThat(state.accessedBy(1002)).isFalse();
  }

  @Test
  void pidsThatAgreeInTheirLowSixBits_shareABit() {
    VmaNumabState state = new VmaNumabState(0x2000, 0, DELAY, RESET_PERIOD);

    state.recordAccess(1001);

    assertThat(state.accessedBy(1001 + 64)).isTrue();
    assertThat(state.accessedBy(1001 + 63)).isFalse();
  }

  @Test
  void anAccessSurvivesOneAgeing_andIsForgottenAtTheSecond() {
    VmaNumabState state = new VmaNumabState(0x2000, 0, DELAY, RESET_PERIOD);
    state.recordAccess(7);
    long firstReset = DELAY + RESET_PERIOD;

    state.ageIfDue(firstReset, RESET_PERIOD); // not past the reset time yet
    assertThat(state.accessedBy(7)).isTrue();
    state.ageIfDue(firstReset + 1, RESET_PERIOD); // the recent window becomes the older one
    assertThat(state.accessedBy(7)).isTrue();
    state.ageIfDue(firstReset + RESET_PERIOD + 1, RESET_PERIOD); // and is dropped
    assertThat(state.accessedBy(7)).isFalse();
  }

  @Test
  void aNewVmaWaitsOneScanDelay() {
    VmaNumabState state = new VmaNumabState(0x2000, 500, DELAY, RESET_PERIOD);

    assertThat(state.tooNewToScan(500 + DELAY - 1)).isTrue();
    assertThat(state.tooNewToScan(500 + DELAY)).isFalse();
  }
}
