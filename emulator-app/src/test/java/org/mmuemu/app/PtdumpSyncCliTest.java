package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The 2025 ptdump race through {@code mmuemu run}: three {@code test_vmalloc} workers map huge
 * areas over ranges small areas left PTE tables in ({@code pmd_free_pte_page}) while a fourth core
 * reads {@code kernel_page_tables} over and over. With {@code ptdumpSync=none} a walk that read a
 * PMD entry before it was cleared goes on reading the PTE table after it was freed ({@code
 * FREED_TABLE_WALK}); with the static-key fix (the default) the free waits for the walk.
 */
final class PtdumpSyncCliTest {
  private static final List<String> PARAMS =
      List.of(
          "nr_threads=3",
          "ptdump_readers=1",
          "use_huge=1",
          "nr_pages=600",
          "run_test_mask=41",
          "test_loop_count=50");

  private static CliTestSupport.VariantRun run(String ptdumpSync) throws Exception {
    return CliTestSupport.runVariant(
        "arm64-neoverse-n1", "test_vmalloc", "ptdumpSync", ptdumpSync, PARAMS, "/cores=4");
  }

  @Test
  void none_letsAWalkReadAPteTableThatHugeVmapFreed() throws Exception {
    CliTestSupport.VariantRun run = run("none");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/FREED_TABLE_WALK").asLong()).isPositive();
    assertThat(run.result().at("/violations/0/detail").asText())
        .startsWith("ptdump read a level-3");
    assertThat(run.result().at("/kernel/ptdumpTableFreeWaits").isMissingNode()).isTrue();
  }

  @Test
  void staticKey_makesTheFreeWaitForTheWalk_andNothingIsReported() throws Exception {
    CliTestSupport.VariantRun run = run("staticKey");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/kernel/vmapTablesFreed").asLong()).isPositive();
    assertThat(run.result().at("/kernel/ptdumpTableFreeWaits").asLong()).isPositive();
    assertThat(run.result().at("/kernel/ptdumpWalks").asLong()).isPositive();
  }
}
