package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
          "test_loop_count=150",
          "speculative_walk=2");

  private static CliTestSupport.VariantRun run(String machine, String value) throws Exception {
    return CliTestSupport.runVariant(
        machine, "test_vmalloc", "x86FreePteTableFlush", value, PARAMS, "/cores=4");
  }

  /**
   * The old code frees each replaced table without a flush and a later speculative walk reads it;
   * the fixed kernel flushes every freed table first (Skylake with an IPI and an {@code INVLPG} on
   * each CPU, Zen 4 with one broadcast {@code INVLPGB}, then {@code TLBSYNC}) and nothing is
   * reported.
   */
  @ParameterizedTest
  @CsvSource({"x86-skylake, INVLPG, 4", "x86-zen4, INVLPGB, 1"})
  void noFlush_aSpeculativeWalkReadsTheFreedTable_flushFlushesEveryFreedTable(
      String machine, String instruction, int perTable) throws Exception {
    CliTestSupport.VariantRun buggy = run(machine, "noFlush");
    CliTestSupport.VariantRun fixed = run(machine, "flush");

    assertThat(buggy.exitCode()).as(buggy.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(buggy.result().at("/violationCounts/FREED_TABLE_WALK").asLong()).isPositive();
    assertThat(buggy.result().at("/violationCounts").size()).isEqualTo(1);
    assertThat(buggy.result().at("/violations/0/detail").asText())
        .contains("walk cache")
        .contains("freed or reused since the cache entry was filled");
    assertThat(buggy.result().at("/kernel/vmapTablesFreed").asLong()).isPositive();
    assertThat(buggy.result().at("/maintenance/byInstruction/" + instruction).asLong())
        .as("the tables freed without a flush")
        .isZero();

    assertThat(fixed.exitCode()).as(fixed.err()).isEqualTo(ExitCodes.OK);
    assertThat(fixed.result().at("/violationCounts").size()).isZero();
    long tables = fixed.result().at("/kernel/vmapTablesFreed").asLong();
    assertThat(tables).isPositive();
    assertThat(fixed.result().at("/maintenance/byInstruction/" + instruction).asLong())
        .as("each freed table flushed")
        .isGreaterThanOrEqualTo(tables * perTable);
  }
}
