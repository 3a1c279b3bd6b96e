package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The 2025 ptdump race through {@code mmuemu run}: three {@code test_vmalloc} workers map huge
 * areas over ranges small areas left PTE tables in ({@code pmd_free_pte_page}) while a fourth core
 * reads {@code kernel_page_tables} over and over. With {@code ptdumpSync=none} a walk that read a
 * PMD entry before it was cleared goes on reading the PTE table after it was freed ({@code
 * FREED_TABLE_WALK}); with the static-key fix (the default) the free waits for the walk.
 */
final class PtdumpSyncCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private CliTestSupport.Outcome run(String ptdumpSync, Path out) throws Exception {
    return CliTestSupport.run(
        "run",
        "--machine",
        "arm64-neoverse-n1",
        "--set",
        "/cores=4",
        "--workload",
        "test_vmalloc",
        "--param",
        "nr_threads=3",
        "--param",
        "ptdump_readers=1",
        "--param",
        "use_huge=1",
        "--param",
        "nr_pages=600",
        "--param",
        "run_test_mask=41",
        "--param",
        "test_loop_count=50",
        "--set",
        "/kernel/variants/ptdumpSync=" + ptdumpSync,
        "-q",
        "--out",
        out.toString());
  }

  @Test
  void none_letsAWalkReadAPteTableThatHugeVmapFreed() throws Exception {
    Path result = dir.resolve("none.json");
    CliTestSupport.Outcome outcome = run("none", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/FREED_TABLE_WALK").asLong()).isPositive();
    assertThat(json.at("/violations/0/detail").asText()).startsWith("ptdump read a level-3");
    assertThat(json.at("/kernel/ptdumpTableFreeWaits").isMissingNode()).isTrue();
  }

  @Test
  void staticKey_makesTheFreeWaitForTheWalk_andNothingIsReported() throws Exception {
    Path result = dir.resolve("staticKey.json");
    CliTestSupport.Outcome outcome = run("staticKey", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/kernel/vmapTablesFreed").asLong()).isPositive();
    assertThat(json.at("/kernel/ptdumpTableFreeWaits").asLong()).isPositive();
    assertThat(json.at("/kernel/ptdumpWalks").asLong()).isPositive();
  }
}
