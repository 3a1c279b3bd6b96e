package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Per-VMA locks ({@code faultLocking}, DOMAIN-FAULTS.md §1) through {@code mmuemu run}, on both
 * ISAs. In {@code mprotect-flipper} one thread flips a VMA's protection while the others fault in
 * pages of another VMA: with {@code perVma} the faults hold only their VMA's lock and never wait
 * for {@code mmap_lock}; with {@code mmapLock} each mprotect stalls them. With {@code target=same}
 * the faults find their VMA write-locked, fall back and queue on {@code mmap_lock} again. In {@code
 * launch-storm} every new stack's first fault falls back (no {@code anon_vma}). The oracle's VL1 to
 * VL4 checks stay silent throughout.
 */
final class FaultLockingCliTest {
  private static final List<String> FLIPPER = List.of("threads=4", "regionBytes=256KiB");

  private static CliTestSupport.VariantRun run(
      String machine, String workload, String faultLocking, List<String> params) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(machine, workload, "faultLocking", faultLocking, params);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/violationCounts").size()).isZero();
    return run;
  }

  private static long kernel(CliTestSupport.VariantRun run, String counter) {
    JsonNode value = run.result().at("/kernel/" + counter);
    return value.isMissingNode() ? 0 : value.asLong();
  }

  private static long pageFaultP99(CliTestSupport.VariantRun run) {
    return run.result().at("/latency/pageFault/p99").asLong();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void flipperOnAnotherVma_perVmaFaultsNeverWaitForMmapLock_mmapLockFaultsDo(String machine)
      throws Exception {
    CliTestSupport.VariantRun perVma = run(machine, "mprotect-flipper", "perVma", FLIPPER);
    CliTestSupport.VariantRun mmapLock = run(machine, "mprotect-flipper", "mmapLock", FLIPPER);

    // the first fault of A and of B falls back (no anon_vma yet); every other one succeeds
    assertThat(kernel(perVma, "vmaLockAbort")).isEqualTo(2);
    assertThat(kernel(perVma, "vmaLockSuccess"))
        .isEqualTo(perVma.result().at("/latency/pageFault/count").asLong() - 2);
    assertThat(kernel(perVma, "mmapLockWaitCycles")).isZero();
    assertThat(kernel(perVma, "mprotectCalls")).isPositive();

    assertThat(kernel(mmapLock, "vmaLockSuccess")).isZero();
    assertThat(kernel(mmapLock, "vmaLockAbort")).isZero();
    assertThat(kernel(mmapLock, "mmapLockWaitCycles")).isPositive();
    assertThat(pageFaultP99(mmapLock)).isGreaterThan(pageFaultP99(perVma));
    assertThat(mmapLock.result().at("/cycles/total").asLong())
        .isGreaterThan(perVma.result().at("/cycles/total").asLong());
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void flipperOnTheFaultingVma_faultsFallBackAndQueueOnMmapLock(String machine) throws Exception {
    List<String> params = List.of("threads=4", "regionBytes=256KiB", "target=same");
    CliTestSupport.VariantRun same = run(machine, "mprotect-flipper", "perVma", params);

    assertThat(kernel(same, "vmaLockAbort")).isGreaterThan(2);
    assertThat(kernel(same, "mmapLockWaitCycles")).isPositive();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void launchStorm_everyNewStackFallsBackOnce_andMmapsWaitLessForFaults(String machine)
      throws Exception {
    List<String> params = List.of("threads=4", "stacks=8", "stackBytes=32KiB");
    CliTestSupport.VariantRun perVma = run(machine, "launch-storm", "perVma", params);
    CliTestSupport.VariantRun mmapLock = run(machine, "launch-storm", "mmapLock", params);

    assertThat(kernel(perVma, "vmaLockAbort")).isEqualTo(4 * 8);
    assertThat(kernel(perVma, "vmaLockSuccess")).isEqualTo(4 * 8 * 7);
    assertThat(kernel(mmapLock, "vmaLockSuccess")).isZero();
    assertThat(kernel(mmapLock, "mmapLockWaitCycles"))
        .isGreaterThan(kernel(perVma, "mmapLockWaitCycles"));
    assertThat(mmapLock.result().at("/latency/mmap/mean").asDouble())
        .isGreaterThan(perVma.result().at("/latency/mmap/mean").asDouble());
  }
}
