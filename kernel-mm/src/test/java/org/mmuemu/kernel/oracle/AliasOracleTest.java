package org.mmuemu.kernel.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.testkit.KernelBoot;

class AliasOracleTest {
  private static final long KERNEL_VA = 0xffff_8000_0000_0000L;
  private static final int PAGES = 3_000; // past the initial table: it grows, then is rebuilt

  private static long page(int i) {
    return KERNEL_VA + ((long) i << 12);
  }

  @Test
  void flushesOfPartsOfTheBacklog_forgetExactlyThePagesTheyCover_roundAfterRound() {
    Machine machine = KernelBoot.on("arm64").cores(2).boot().machine();
    AliasOracle oracle = new AliasOracle(machine, va -> -1L);
    long checked = 0;
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < PAGES; i++) {
        oracle.unmapped(page(i), 0x1000 + i);
      }
      oracle.unmapped(page(7), 0x1007); // the same page again is one page
      assertThat(oracle.unflushedPages()).isEqualTo(PAGES);

      oracle.flushCompleted(0, page(0), page(PAGES / 3), "flush", Long.MAX_VALUE);
      checked += PAGES / 3;
      assertThat(oracle.unflushedPages()).isEqualTo(PAGES - PAGES / 3);
      assertThat(oracle.checks()).isEqualTo(checked);

      // a flush of the same range finds nothing left there; one of the rest finds each page once
      oracle.flushCompleted(0, page(0), page(PAGES / 3), "flush", Long.MAX_VALUE);
      assertThat(oracle.checks()).isEqualTo(checked);
      oracle.flushCompleted(0, page(PAGES / 3), page(PAGES), "flush", Long.MAX_VALUE);
      checked += PAGES - PAGES / 3;
      assertThat(oracle.unflushedPages()).isZero();
      assertThat(oracle.checks()).isEqualTo(checked);
    }
  }

  @Test
  void aFlushThatBeganBeforeAnUnmap_leavesThatPageForTheNextOne() {
    Machine machine = KernelBoot.on("arm64").cores(2).boot().machine();
    AliasOracle oracle = new AliasOracle(machine, va -> -1L);
    oracle.unmapped(page(1), 0x2001);
    long unmappedAt = machine.now(0);
    oracle.flushCompleted(0, page(0), page(PAGES), "flush", unmappedAt - 1);
    assertThat(oracle.unflushedPages()).isEqualTo(1);
    oracle.flushCompleted(0, page(0), page(PAGES), "flush", unmappedAt);
    assertThat(oracle.unflushedPages()).isZero();
    assertThat(oracle.checks()).isEqualTo(1);
  }
}
