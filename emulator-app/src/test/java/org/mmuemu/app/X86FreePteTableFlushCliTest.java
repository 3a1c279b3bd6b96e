package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The 2018 x86 bug through {@code mmuemu run}: four test_vmalloc workers mix huge and small
 * vmallocs, and each worker's CPU speculatively walks the recently freed areas again and again
 * ({@code speculative_walk=2}), so its paging-structure cache holds the PMD entries of PTE tables
 * that a later {@code vmalloc_huge} replaces. Linux's {@code pmd_free_pte_page} flushes those
 * caches before freeing the table; the old code ({@code noFlush}) freed it with the cache still
 * pointing at it, and the next speculative walk reads the freed table ({@code FREED_TABLE_WALK}).
 */
final class X86FreePteTableFlushCliTest {
  private static final List<String> PARAMS =
      List.of(
          "nr_threads=4",
          "use_huge=1",
          "nr_pages=600",
          "run_test_mask=9",
          "test_loop_count=300",
          "speculative_walk=2");

  private static CliTestSupport.VariantRun run(String machine, String value) throws Exception {
    return CliTestSupport.runVariant(
        machine, "test_vmalloc", "x86FreePteTableFlush", value, PARAMS, "/cores=4");
  }

  @ParameterizedTest
  @ValueSource(strings = {"x86-skylake", "x86-zen4"})
  void noFlush_aSpeculativeWalkReadsTheFreedTable(String machine) throws Exception {
    CliTestSupport.VariantRun run = run(machine, "noFlush");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/FREED_TABLE_WALK").asLong()).isPositive();
    assertThat(run.result().at("/violationCounts").size()).isEqualTo(1);
    assertThat(run.result().at("/violations/0/detail").asText())
        .contains("walk cache")
        .contains("freed or reused since the cache entry was filled");
  }

  @ParameterizedTest
  @ValueSource(strings = {"x86-skylake", "x86-zen4"})
  void flush_freesTheSameTables_andNothingIsReported(String machine) throws Exception {
    CliTestSupport.VariantRun run = run(machine, "flush");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/kernel/vmapTablesFreed").asLong()).isPositive();
  }
}
