package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The arm64 acceptance run of issue #3 as a user types it: munmap-storm on the built-in arm64
 * machines reports every TLBI and DSB by name in {@code maintenance.byInstruction} and the
 * distribution of {@code flush_tlb_range} latencies in {@code latency}; the N1 (no FEAT_TLBIRANGE)
 * flushes page by page, the M2 with one range TLBI per unmap.
 */
final class Arm64MunmapStormCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode run(String machine) throws Exception {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            machine,
            "--workload",
            "munmap-storm",
            "--param",
            "iterations=20",
            "--param",
            "threads=4",
            "--set",
            "/cores=4",
            "--set",
            "/memoryBytes=256MiB",
            "--json",
            "--quiet");
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    return JSON.readTree(outcome.out());
  }

  @Test
  void neoverseN1_countsPerPageTlbisAndDsbs_andReportsTheFlushLatencyDistribution()
      throws Exception {
    JsonNode result = run("arm64-neoverse-n1");

    JsonNode byInstruction = result.at("/maintenance/byInstruction");
    long unmaps = 4 * 20;
    assertThat(byInstruction.get("TLBI VALE1IS").asLong()).isEqualTo(unmaps * 16); // 64 KiB regions
    assertThat(byInstruction.get("DSB ISHST").asLong()).isEqualTo(unmaps);
    assertThat(byInstruction.get("DSB ISH").asLong()).isEqualTo(unmaps);
    assertThat(byInstruction.has("TLBI RVALE1IS")).isFalse();
    JsonNode flush = result.at("/latency/flush_tlb_range");
    assertThat(flush.get("count").asLong()).isEqualTo(unmaps);
    assertThat(flush.get("p50").asLong()).isPositive();
    assertThat(flush.get("max").asLong()).isGreaterThanOrEqualTo(flush.get("p99").asLong());
    assertThat(result.get("violationCounts").size()).isZero();
  }

  @Test
  void appleM2_flushesEachUnmapWithOneRangeTlbi() throws Exception {
    JsonNode byInstruction = run("arm64-apple-m2").at("/maintenance/byInstruction");

    assertThat(byInstruction.get("TLBI RVALE1IS").asLong()).isEqualTo(4 * 20);
    assertThat(byInstruction.has("TLBI VALE1IS")).isFalse();
    assertThat(byInstruction.get("DSB ISH").asLong()).isEqualTo(4 * 20);
  }
}
