package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Device-exclusive entries through {@code mmuemu run --workload device-exclusive}: a driver makes
 * an 8-page buffer device-exclusive 30 times while the other threads touch it and reclaim discards
 * the pages the device holds. Faults on one entry wait for each other on the page lock; without the
 * 2023 fix's reference ({@code deviceExclusiveRef=none}) reclaim frees a page under a waiting
 * fault, which then locks a freed page; with it ({@code get}, the default) nothing is reported.
 */
final class DeviceExclusiveCliTest {
  private static final List<String> PARAMS = List.of("rounds=30", "pages=8");

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void none_locksPagesReclaimFreedUnderTheFault(String machine) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            machine, "device-exclusive", "deviceExclusiveRef", "none", PARAMS);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    long uaf = run.result().at("/violationCounts/KERNEL_UAF").asLong();
    assertThat(uaf).isPositive();
    assertThat(run.result().at("/kernel/folioLocksAfterFree").asLong()).isEqualTo(uaf);
    assertThat(run.result().at("/violations/0/detail").asText())
        .startsWith("remove_device_exclusive_entry locked the page in frame")
        .contains("without holding a reference on it");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void get_holdsTheReference_andNothingIsReported(String machine) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(machine, "device-exclusive", "deviceExclusiveRef", "get", PARAMS);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/violationCounts").size()).isZero();
    // one per page and round, but for a PTE that changed between the walk and the PTE lock (a
    // hardware accessed/dirty update, a restore racing in): that one is left as it is
    assertThat(run.result().at("/kernel/deviceExclusiveEntries").asLong())
        .isBetween(30L * 8 - 8, 30L * 8);
    assertThat(run.result().at("/kernel/deviceExclusiveRestores").asLong()).isPositive();
    assertThat(run.result().at("/kernel/deviceExclusiveRestoresLost").asLong()).isPositive();
    assertThat(run.result().at("/kernel/folioLocksAfterFree").asLong()).isZero();
    // 6.4: a fault that meets a device-exclusive entry under the VMA lock retries under mmap_lock
    assertThat(run.result().at("/kernel/vmaLockRetry").asLong()).isPositive();
  }
}
