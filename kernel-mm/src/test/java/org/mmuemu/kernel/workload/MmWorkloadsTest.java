package org.mmuemu.kernel.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.workload.registry.Workloads;

/**
 * The process-mm workloads on both ISAs: each runs with small parameters, reports the latency
 * distribution of its kernel operations and the maintenance it caused, and shows no violation under
 * the default variants; the bug variants they exist to show do show up.
 */
final class MmWorkloadsTest {

  private static RunResult run(
      String isa, String workload, Map<String, String> params, Map<String, Object> variants)
      throws WorkloadException {
    MachineSpec spec = KernelBoot.on(isa).cores(4).variants(variants).spec();
    Workload named = Workloads.get(workload);
    Map<String, String> resolved = WorkloadArgs.resolve(named, params).asMap();
    return Simulation.run(
        SimulationRequest.of(spec, KernelBoot.isa(spec), "sha", named, resolved, 7));
  }

  @ParameterizedTest
  @CsvSource({
    "arm64, munmap-storm, munmap, iterations=5",
    "x86, munmap-storm, munmap, iterations=5",
    "arm64, dontneed-touch, madvise, iterations=20",
    "x86, dontneed-touch, madvise, iterations=20",
    "arm64, fork-exit, exit_mmap, processes=4",
    "x86, fork-exit, exit_mmap, processes=4",
    "arm64, oom-reap, oom_reap, rounds=3",
    "x86, oom-reap, oom_reap, rounds=3",
    "arm64, fault-scaling, pageFault, rounds=2",
    "x86, fault-scaling, pageFault, rounds=2",
    "arm64, writeback, writepage, writes=300",
    "x86, writeback, writepage, writes=300",
    "arm64, fork-cow, fork, forks=3",
    "x86, fork-cow, fork, forks=3"
  })
  void workload_runsOnBothIsasWithoutViolations_andReportsItsLatencies(
      String isa, String workload, String operation, String param) throws Exception {
    String[] pair = param.split("=");
    RunResult result = run(isa, workload, Map.of(pair[0], pair[1]), Map.of());

    assertThat(result.violations()).isEmpty();
    assertThat(result.latency()).containsKey(operation).containsKey("pageFault");
    assertThat(result.latency().get(operation).count()).isPositive();
    assertThat(result.maintenance().byInstruction()).isNotEmpty();
    assertThat(result.kernel()).containsKey("pagesFreed");
  }

  @ParameterizedTest
  @CsvSource({"arm64, 1", "x86, 0"})
  void oomReap_withTheFullmmGather_reachesReusedFramesOnArm64Only(String isa, int expectStale)
      throws Exception {
    RunResult result =
        run(isa, "oom-reap", Map.of("rounds", "3"), Map.of("oomReaperGather", "fullmm"));

    if (expectStale > 0) {
      assertThat(result.violationCounts()).containsKey("STALE_TLB_USE");
    } else {
      assertThat(result.violations()).isEmpty();
    }
  }

  @ParameterizedTest
  @CsvSource({"arm64", "x86"})
  void forkExit_freesEveryPageAndTableItAllocated(String isa) throws Exception {
    RunResult result =
        run(isa, "fork-exit", Map.of("processes", "3", "memoryBytes", "64KiB"), Map.of());

    // 4 cores x 3 processes x 16 pages, every one freed at exit
    assertThat(result.kernel())
        .containsEntry("pagesFreed", 4L * 3 * 16)
        .containsEntry("processesExited", 12L);
    assertThat((Long) result.kernel().get("pageTablesFreed")).isEqualTo(4L * 3 * 3);
  }

  @ParameterizedTest
  @CsvSource({"arm64", "x86"})
  void moreMadvisingThreadsThanThreads_isRejected(String isa) {
    assertThatThrownBy(
            () ->
                run(isa, "dontneed-touch", Map.of("threads", "2", "madviseThreads", "3"), Map.of()))
        .isInstanceOf(WorkloadException.class)
        .hasMessageContaining("madviseThreads=3")
        .hasMessageContaining("threads=2");
  }

  /** One thread is the published baseline: no remote CPU, so no IPI and no broadcast wait. */
  @ParameterizedTest
  @CsvSource({"arm64", "x86"})
  void oneThread_madvisesAlone(String isa) throws Exception {
    RunResult result =
        run(isa, "dontneed-touch", Map.of("threads", "1", "iterations", "10"), Map.of());

    assertThat(result.kernel()).containsEntry("pagesFreed", 10L);
    assertThat(result.maintenance().ipis()).isZero();
  }

  @ParameterizedTest
  @CsvSource({"arm64", "x86"})
  void sameSeed_sameResult(String isa) throws Exception {
    RunResult first = run(isa, "writeback", Map.of("writes", "200"), Map.of());
    RunResult second = run(isa, "writeback", Map.of("writes", "200"), Map.of());
    assertThat(List.of(first.kernel(), first.latency(), first.maintenance()))
        .isEqualTo(List.of(second.kernel(), second.latency(), second.maintenance()));
  }

  @ParameterizedTest
  @CsvSource({"writeback, true", "dontneed-touch, true", "munmap-storm, true"})
  void x86WithInvlpgbAndGlobalAsids_reportsNoViolation(String workload, boolean broadcasts)
      throws Exception {
    MachineSpec spec =
        KernelBoot.on("x86").cores(8).isaValues(Map.of("pcid", true, "invlpgb", true)).spec();
    Workload named = Workloads.get(workload);
    RunResult result =
        Simulation.run(
            SimulationRequest.of(
                spec,
                KernelBoot.isa(spec),
                "sha",
                named,
                WorkloadArgs.resolve(named, Map.of()).asMap(),
                3));

    assertThat(result.violations()).isEmpty();
    // an mm on more than three CPUs gets a global ASID (sampled per jiffy) and is flushed by
    // INVLPGB
    assertThat(result.maintenance().byInstruction().containsKey("INVLPGB")).isEqualTo(broadcasts);
  }

  /**
   * fork-cow under the default variants across seeds and thread counts: children and parent threads
   * interleave differently each time, and the oracle stays silent (COW copies flush before the old
   * page can be freed; exits free shared pages only with their last mapping).
   */
  @ParameterizedTest
  @CsvSource({"arm64, 1", "arm64, 3", "x86, 1", "x86, 3"})
  void forkCow_defaults_staySilentAcrossSeeds(String isa, String threads) throws Exception {
    for (long seed = 1; seed <= 4; seed++) {
      MachineSpec spec = KernelBoot.on(isa).cores(4).spec();
      Workload named = Workloads.get("fork-cow");
      Map<String, String> resolved =
          WorkloadArgs.resolve(
                  named,
                  Map.of(
                      "threads", threads, "forks", "4", "heapBytes", "64KiB", "childWrites", "24"))
              .asMap();
      RunResult result =
          Simulation.run(
              SimulationRequest.of(spec, KernelBoot.isa(spec), "sha", named, resolved, seed));

      assertThat(result.violations()).as("seed %d", seed).isEmpty();
      assertThat(result.kernel()).containsEntry("forks", 4L).doesNotContainKey("gupPinsStale");
      assertThat(((Number) result.kernel().get("cowCopies")).longValue()).isPositive();
    }
  }
}
