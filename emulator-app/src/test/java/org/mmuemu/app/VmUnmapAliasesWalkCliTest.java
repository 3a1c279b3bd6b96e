package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * fc1e0d980037 (DOMAIN.md §2.1) through {@code mmuemu run}: {@code vm_map_ram_test} keeps 200
 * mappings alive, so a vmap block is used up while some of its pages are still mapped and others
 * are unmapped and unflushed, and calls {@code vm_unmap_aliases} every 50 iterations. With {@code
 * vmUnmapAliasesWalk=free-list} (up to 6.4) the call walks only the free lists, misses that block
 * and returns while the worker's TLB still translates its unmapped pages ({@code UNFLUSHED_ALIAS});
 * the xarray walk (the fix) flushes them.
 */
final class VmUnmapAliasesWalkCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private CliTestSupport.Outcome run(String machine, String walk, Path out) throws Exception {
    return CliTestSupport.run(
        "run",
        "--machine",
        machine,
        "--workload",
        "test_vmalloc",
        "--param",
        "nr_threads=1",
        "--param",
        "run_test_mask=1024",
        "--param",
        "test_loop_count=3000",
        "--param",
        "vm_map_ram_live=200",
        "--param",
        "unmap_aliases_every=50",
        "--set",
        "/kernel/variants/vmUnmapAliasesWalk=" + walk,
        "-q",
        "--out",
        out.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void freeList_missesTheUsedUpBlock_andLeavesItsAliasesInTheTlb(String machine) throws Exception {
    Path result = dir.resolve("buggy.json");
    CliTestSupport.Outcome outcome = run(machine, "free-list", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/UNFLUSHED_ALIAS").asLong()).isPositive();
    assertThat(json.at("/violations/0/detail").asText()).startsWith("after vm_unmap_aliases,");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void xarray_flushesEveryDirtyBlock(String machine) throws Exception {
    Path result = dir.resolve("fixed.json");
    CliTestSupport.Outcome outcome = run(machine, "xarray", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/kernel/vmUnmapAliasesCalls").asLong()).isEqualTo(60);
  }
}
