package org.mmuemu.kernel.arch.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.kernel.testkit.KernelBoot;

/** x86's arch layer passes the {@link LinuxArchContractTest} contract. */
final class X86LinuxArchContractTest extends LinuxArchContractTest {
  @Override
  String isa() {
    return "x86";
  }

  /** The contract's freed-table check can fail: the pre-2018 pmd_free_pte_page breaks it. */
  @Test
  void the2018PmdFreePteTable_breaksTheFreedTableContract() {
    assertThat(
            freedTableWalksAfterPmdFreePteTable(
                KernelBoot.on("x86")
                    .cores(3)
                    .memoryBytes(128L << 20)
                    .variants(Map.of("x86FreePteTableFlush", "noFlush"))
                    .kernelThreads()))
        .isPositive();
  }
}
