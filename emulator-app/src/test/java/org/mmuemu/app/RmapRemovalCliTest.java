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
 * The pre-6.2 lost write (DOMAIN.md §3.5) through {@code mmuemu run}: five writers store through a
 * 32-page shared file mapping like log writers and drop 16-page chunks of it with {@code
 * MADV_DONTNEED}, while the flusher on the last core writes pages back and reclaims clean ones.
 * With {@code rmapRemoval=immediate} a zap removes a dirty page's rmap as it clears the PTE and
 * flushes only at the end of the PTE table, under the lock: writeback in between cleans the page
 * without a flush, another writer's store through its stale entry lands in the clean page, and
 * reclaim drops it ({@code LOST_WRITE}). With {@code delayed} (6.2+) writeback finds the mapping
 * and waits for the zap's PTE lock: nothing is lost.
 */
final class RmapRemovalCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private CliTestSupport.Outcome run(String machine, String rmapRemoval, Path out)
      throws Exception {
    return CliTestSupport.run(
        "run",
        "--machine",
        machine,
        "--workload",
        "writeback",
        "--param",
        "threads=6",
        "--param",
        "filePages=32",
        "--param",
        "pattern=sequential",
        "--param",
        "writes=5000",
        "--param",
        "dontneedEvery=50",
        "--param",
        "flushIntervalCycles=1000",
        "--set",
        "/kernel/variants/rmapRemoval=" + rmapRemoval,
        "-q",
        "--out",
        out.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void immediate_losesAWriteThatLandedBetweenTheRmapRemovalAndTheFlush(String machine)
      throws Exception {
    Path result = dir.resolve("immediate.json");
    CliTestSupport.Outcome outcome = run(machine, "immediate", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/LOST_WRITE").asLong()).isPositive();
    assertThat(json.at("/violationCounts").size()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void delayed_keepsTheMappingInTheRmapUntilTheFlush_andNothingIsLost(String machine)
      throws Exception {
    Path result = dir.resolve("delayed.json");
    CliTestSupport.Outcome outcome = run(machine, "delayed", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/kernel/pagesReclaimed").asLong()).isPositive();
    assertThat(json.at("/kernel/pagesWrittenBack").asLong()).isPositive();
  }
}
