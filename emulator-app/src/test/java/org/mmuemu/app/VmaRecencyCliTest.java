package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Reclaim's reference check and {@code vma_has_recency} through {@code mmuemu run}: seven writers
 * send 90% of their stores to the first 32 pages of a 256-page shared file mapping while the
 * flusher writes pages back and reclaims clean ones, mapped ones included ({@code
 * reclaimMapped=1}). Without a hint reclaim clears the accessed bits it finds (arm64 with a TLBI
 * each, x86 with none) and keeps the pages used since its last pass, so the hot pages survive. With
 * {@code MADV_RANDOM} (6.3+, {@code vmaRecency=skipVma}) the mappings are skipped: no clears, no
 * TLBIs, and the hot pages go with the cold ones. Before 6.3 ({@code legacy}) {@code MADV_RANDOM}
 * made no difference, and {@code MADV_SEQUENTIAL} cleared and flushed every young PTE but kept
 * nothing.
 */
final class VmaRecencyCliTest {
  private static final long HOT_PAGES = 32;
  private static final Map<String, JsonNode> RUNS = new HashMap<>();

  private static JsonNode run(String machine, String advice, String vmaRecency) throws Exception {
    String key = machine + "/" + advice + "/" + vmaRecency;
    JsonNode cached = RUNS.get(key);
    if (cached != null) {
      return cached;
    }
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            machine,
            "writeback",
            "vmaRecency",
            vmaRecency,
            List.of(
                "reclaimMapped=1", "hotPages=" + HOT_PAGES, "writes=10000", "advice=" + advice));
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().path("violationCounts").size()).isZero();
    RUNS.put(key, run.result());
    return run.result();
  }

  private static long counter(JsonNode result, String name) {
    return result.at("/kernel/" + name).asLong(); // absent: 0
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void noHint_clearsYoungBits_andKeepsTheHotPages(String machine) throws Exception {
    JsonNode normal = run(machine, "normal", "skipVma");

    long cleared = counter(normal, "reclaimYoungCleared");
    assertThat(cleared).isGreaterThan(100);
    assertThat(counter(normal, "reclaimReferencedKept")).isEqualTo(cleared);
    assertThat(counter(normal, "reclaimRecencySkipped")).isZero();
    assertThat(counter(normal, "hotPagesCachedAtEnd")).isEqualTo(HOT_PAGES);
    if (machine.startsWith("arm64")) {
      assertThat(counter(normal, "arm64ClearFlushYoungTlbis")).isEqualTo(cleared);
    } else {
      assertThat(normal.at("/kernel").has("arm64ClearFlushYoungTlbis")).isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void madvRandom_skipsTheMappings_reclaimsMore_andFlushesNothingForYoungBits(String machine)
      throws Exception {
    JsonNode normal = run(machine, "normal", "skipVma");
    JsonNode random = run(machine, "random", "skipVma");

    assertThat(counter(random, "reclaimRecencySkipped")).isGreaterThan(100);
    assertThat(random.at("/kernel").has("reclaimYoungCleared")).isFalse();
    assertThat(random.at("/kernel").has("reclaimReferencedKept")).isFalse();
    assertThat(random.at("/kernel").has("arm64ClearFlushYoungTlbis")).isFalse();
    assertThat(counter(random, "pagesReclaimed"))
        .isGreaterThan(counter(normal, "pagesReclaimed") + 40);
    assertThat(counter(random, "reclaimUnmappedPtes"))
        .isGreaterThan(counter(normal, "reclaimUnmappedPtes") + 60);
    assertThat(counter(random, "hotPagesCachedAtEnd")).isZero();
    assertThat(random.at("/latency/reclaim/mean").asDouble())
        .isLessThan(normal.at("/latency/reclaim/mean").asDouble());
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void legacy_madvRandomStillCountsReferences_likeNoHint(String machine) throws Exception {
    JsonNode normal = run(machine, "normal", "skipVma");
    JsonNode legacyRandom = run(machine, "random", "legacy");

    assertThat(legacyRandom.at("/kernel/reclaimRecencySkipped").isMissingNode()).isTrue();
    for (String name :
        List.of(
            "reclaimYoungCleared",
            "reclaimReferencedKept",
            "pagesReclaimed",
            "hotPagesCachedAtEnd",
            "arm64ClearFlushYoungTlbis")) {
      assertThat(counter(legacyRandom, name)).as(name).isEqualTo(counter(normal, name));
    }
  }

  /**
   * Before 6.3 a sequential hint paid for the clears (arm64: a TLBI per young PTE) and still kept
   * nothing; 6.3 skips the mappings and pays nothing.
   */
  @Test
  void legacy_madvSequential_clearsAndFlushesEveryYoungPte_butKeepsNothing() throws Exception {
    JsonNode legacy = run("arm64-neoverse-n1", "sequential", "legacy");
    JsonNode skip = run("arm64-neoverse-n1", "sequential", "skipVma");

    long cleared = counter(legacy, "reclaimYoungCleared");
    assertThat(cleared).isGreaterThan(100);
    assertThat(counter(legacy, "reclaimSeqReadIgnored")).isEqualTo(cleared);
    assertThat(counter(legacy, "arm64ClearFlushYoungTlbis")).isEqualTo(cleared);
    assertThat(legacy.at("/kernel").has("reclaimReferencedKept")).isFalse();
    assertThat(counter(legacy, "hotPagesCachedAtEnd")).isZero();

    assertThat(skip.at("/kernel").has("arm64ClearFlushYoungTlbis")).isFalse();
    assertThat(counter(skip, "reclaimRecencySkipped")).isGreaterThan(100);
    assertThat(skip.at("/latency/reclaim/mean").asDouble())
        .isLessThan(legacy.at("/latency/reclaim/mean").asDouble() / 2);
  }
}
