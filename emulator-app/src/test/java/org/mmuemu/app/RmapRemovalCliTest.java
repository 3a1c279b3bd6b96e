package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The pre-6.2 lost write (DOMAIN.md §3.5) through {@code mmuemu run}: five writers store through a
 * 32-page shared file mapping like log writers and drop 16-page chunks of it with {@code
 * MADV_DONTNEED}, while the flusher on the last core writes pages back and reclaims clean ones.
 * With {@code rmapRemoval=immediate} a zap removes a dirty page's rmap as it clears the PTE and
 * flushes only at the end of the PTE table, under the lock: writeback in between cleans the page
 * without a flush, another writer's store through its stale entry lands in the clean page, and
 * reclaim drops it ({@code LOST_WRITE}). With {@code delayed} (6.2+) writeback finds the mapping
 * and waits for the zap's PTE lock: nothing is lost. On x86-skylake four writers (threads=5) are
 * used: with five, no store of that run happens to land in the window.
 */
final class RmapRemovalCliTest {
  private static List<String> params(String machine) {
    return List.of(
        machine.startsWith("x86") ? "threads=5" : "threads=6",
        "filePages=32",
        "pattern=sequential",
        "writes=5000",
        "dontneedEvery=50",
        "flushIntervalCycles=1000");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void immediate_losesAWriteThatLandedBetweenTheRmapRemovalAndTheFlush(String machine)
      throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            machine, "writeback", "rmapRemoval", "immediate", params(machine));

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/LOST_WRITE").asLong()).isPositive();
    assertThat(run.result().at("/violationCounts").size()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void delayed_keepsTheMappingInTheRmapUntilTheFlush_andNothingIsLost(String machine)
      throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(machine, "writeback", "rmapRemoval", "delayed", params(machine));

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/kernel/pagesReclaimed").asLong()).isPositive();
    assertThat(run.result().at("/kernel/pagesWrittenBack").asLong()).isPositive();
  }
}
