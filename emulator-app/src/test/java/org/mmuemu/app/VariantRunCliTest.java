package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Kernel variants shown through {@code mmuemu run}, the path a user takes: each variant changes
 * what a run does.
 */
final class VariantRunCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static CliTestSupport.Outcome hugeVmallocOnX86(String freePteTableFlush) {
    return CliTestSupport.run(
        "run",
        "--machine",
        "x86-skylake",
        "--workload",
        "test_vmalloc",
        "--json",
        "--quiet",
        "--param",
        "use_huge=1",
        "--param",
        "nr_pages=600",
        "--param",
        "run_test_mask=9",
        "--param",
        "test_loop_count=30",
        "--param",
        "speculative_walk=1",
        "--set",
        "/kernel/variants/x86FreePteTableFlush=" + freePteTableFlush);
  }

  /**
   * DOMAIN.md §5.7: huge vmalloc replaces PTE tables that small areas left behind ({@code
   * pmd_free_pte_page}). The fixed kernel flushes each one on every CPU (an IPI and an INVLPG per
   * CPU) before freeing it; the pre-2018 kernel frees it without a flush, so the same run issues
   * none of those. Whether a paging-structure cache still points at the freed table when a later
   * walk needs it depends on the interleaving (the targeted test {@code
   * X86TlbPolicyTest.freePteTable_2018Variant_leavesAPdeCacheEntryPointingAtTheFreedTable} and the
   * race scenario build that window on purpose).
   */
  @Test
  void x86FreePteTableFlush_noFlush_freesTheReplacedTablesWithoutTheirFlush() throws Exception {
    CliTestSupport.Outcome fixed = hugeVmallocOnX86("flush");
    CliTestSupport.Outcome buggy = hugeVmallocOnX86("noFlush");

    assertThat(fixed.exitCode()).as(fixed.err()).isEqualTo(ExitCodes.OK);
    JsonNode fixedResult = JSON.readTree(fixed.out());
    JsonNode buggyResult = JSON.readTree(buggy.out());
    long fixedTables = fixedResult.path("kernel").path("vmapTablesFreed").asLong();
    long buggyTables = buggyResult.path("kernel").path("vmapTablesFreed").asLong();
    assertThat(fixedTables).isPositive();
    assertThat(buggyTables).isPositive();
    int cores = fixedResult.path("machine").path("cores").asInt();
    assertThat(fixedResult.at("/maintenance/byInstruction/INVLPG").asLong())
        .as("one INVLPG per CPU for each table freed")
        .isGreaterThanOrEqualTo(fixedTables * cores);
    assertThat(buggyResult.at("/maintenance/byInstruction/INVLPG").asLong())
        .as("the tables are freed without a flush")
        .isZero();
    assertThat(fixedResult.at("/maintenance/ipis").asLong())
        .isGreaterThan(buggyResult.at("/maintenance/ipis").asLong());
  }
}
