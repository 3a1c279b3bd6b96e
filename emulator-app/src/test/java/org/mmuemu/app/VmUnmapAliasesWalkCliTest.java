package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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
  private static final List<String> PARAMS =
      List.of(
          "nr_threads=1",
          "run_test_mask=1024",
          "test_loop_count=3000",
          "vm_map_ram_live=200",
          "unmap_aliases_every=50");

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void freeList_missesTheUsedUpBlock_andLeavesItsAliasesInTheTlb(String machine) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            machine, "test_vmalloc", "vmUnmapAliasesWalk", "free-list", PARAMS);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/UNFLUSHED_ALIAS").asLong()).isPositive();
    assertThat(run.result().at("/violations/0/detail").asText())
        .startsWith("after vm_unmap_aliases,");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void xarray_flushesEveryDirtyBlock(String machine) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(machine, "test_vmalloc", "vmUnmapAliasesWalk", "xarray", PARAMS);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/kernel/vmUnmapAliasesCalls").asLong()).isEqualTo(60);
  }
}
