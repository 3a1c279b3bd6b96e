package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.workload.StreamWorkload;
import org.mmuemu.kernel.workload.WorkloadException;

/** The synthetic workload behind the quick start: its parameters mean what they say. */
final class StreamWorkloadTest {

  private static RunResult run(String isa, int cores, Map<String, String> params)
      throws WorkloadException {
    return Simulation.run(
        SimulationRequest.of(
            KernelBoot.on(isa).cores(cores).spec(),
            KernelBoot.isa(KernelBoot.on(isa).spec()),
            "sha",
            new StreamWorkload(),
            params,
            3));
  }

  @Test
  void sequentialSweep_faultsEveryPageOfEveryThreadOnce() throws Exception {
    RunResult result =
        run(
            "x86",
            3,
            Map.of(
                "pattern",
                "sequential",
                "workingSetBytes",
                "64KiB",
                "accessBytes",
                "64",
                "accesses",
                "1024",
                "writeFraction",
                "0"));
    // 16 data pages per thread, and one code page (1024 fetches of 4 bytes) shared by all
    assertThat(result.kernel()).containsEntry("pageFaults", 3L * 16 + 1);
    assertThat(result.workload().params()).containsEntry("threads", "3");
    assertThat(result.translations()).isEqualTo(3L * 1024 * 2);
    assertThat(result.tlb().get("l1d").lookups()).isEqualTo(3L * 1024);
    assertThat(result.tlb().get("l1i").lookups()).isEqualTo(3L * 1024);
    assertThat(result.cycles().perCore()).hasSize(3).allMatch(c -> c > 0);
    assertThat(result.violations()).isEmpty();
  }

  @Test
  void workingSetWithinL1Reach_missesOnlyOnFirstTouch() throws Exception {
    RunResult small = run("arm64", 1, Map.of("workingSetBytes", "32KiB", "accesses", "5000"));
    RunResult large = run("arm64", 1, Map.of("workingSetBytes", "16MiB", "accesses", "5000"));
    // 8 data pages fit the 16-entry l1d: after the first touches everything hits
    assertThat(small.tlb().get("l1d").misses()).isLessThanOrEqualTo(8 + 8);
    assertThat(large.tlb().get("l1d").misses()).isGreaterThan(4000);
    assertThat(large.walks().count()).isGreaterThan(small.walks().count());
  }

  @Test
  void moreThreadsThanCores_isRejected() {
    assertThatThrownBy(() -> run("arm64", 2, Map.of("threads", "3")))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("threads=3")
        .hasMessageContaining("1 to 2");
  }

  @Test
  void unknownPattern_isRejectedWithTheChoices() {
    assertThatThrownBy(() -> run("arm64", 1, Map.of("pattern", "zigzag")))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("random, sequential, stride");
  }

  @Test
  void sameSeed_sameResult() throws Exception {
    assertThat(run("x86", 2, Map.of("accesses", "2000")))
        .isEqualTo(run("x86", 2, Map.of("accesses", "2000")));
  }
}
