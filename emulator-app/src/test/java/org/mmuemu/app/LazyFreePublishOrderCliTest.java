package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The 2016 lazy-free publish-order bug through {@code mmuemu run}: four test_vmalloc workers run
 * long_busy_list_alloc_test on a kernel with {@code preempt=full}, where each CPU is shared with
 * another task. A worker whose slice ran out is preempted right after {@code
 * free_vmap_area_noflush} published its area; another CPU's purge releases the area meanwhile. With
 * the racy order the worker then reads the released area ({@code KERNEL_UAF}); with Linux's order
 * (account, then publish) it does not touch it again. Without preemption the window has no length
 * and neither order shows anything.
 */
final class LazyFreePublishOrderCliTest {
  private static final List<String> PARAMS =
      List.of("test_loop_count=1", "run_test_mask=4", "nr_threads=4");

  private static CliTestSupport.VariantRun run(String machine, String order, String preempt)
      throws Exception {
    return CliTestSupport.runVariant(
        machine,
        "test_vmalloc",
        "lazyFreePublishOrder",
        order,
        PARAMS,
        "/cores=4",
        "/kernel/tunables/preempt=" + preempt);
  }

  @ParameterizedTest
  @ValueSource(strings = {"x86-skylake", "arm64-neoverse-n1"})
  void racy_withPreemption_readsTheAreaAnotherCpusPurgeReleased(String machine) throws Exception {
    CliTestSupport.VariantRun run = run(machine, "racy", "full");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/KERNEL_UAF").asLong()).isPositive();
    assertThat(run.result().at("/violations/0/detail").asText())
        .contains("free_vmap_area_noflush (racy publish)");
    assertThat(run.result().at("/kernel/preemptions").asLong()).isPositive();
  }

  @ParameterizedTest
  @ValueSource(strings = {"x86-skylake", "arm64-neoverse-n1"})
  void ordered_withTheSamePreemptions_reportsNothing(String machine) throws Exception {
    CliTestSupport.VariantRun run = run(machine, "ordered", "full");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/violationCounts").size()).isZero();
    assertThat(run.result().at("/kernel/preemptions").asLong()).isPositive();
  }

  @ParameterizedTest
  @ValueSource(strings = {"x86-skylake"})
  void racy_withoutPreemption_hasNoWindow(String machine) throws Exception {
    CliTestSupport.VariantRun run = run(machine, "racy", "none");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/kernel/preemptions").isMissingNode()).isTrue();
  }
}
