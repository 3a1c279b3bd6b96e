package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Causal stamps through {@code mmuemu run} (issue 12): the oracle judges every access at the
 * accessing core's time, so a violation is never stamped before the event that caused it. The
 * README's OOM-reaper example, with enough stores after the reap that the victim threads' clocks
 * pass the reaper's frees, reports stale uses, and each one is at or after the first {@code freed}
 * event of its frame that follows the entry's fill in the violation's history.
 */
final class CausalStampCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void oomReapFullmm_everyStaleUse_isStampedAtOrAfterItsFramesFree() throws Exception {
    Path result = dir.resolve("result.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "oom-reap",
            "--param",
            "storesAfterReap=200",
            "--set",
            "/kernel/variants/oomReaperGather=fullmm",
            "-q",
            "--out",
            result.toString());

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/STALE_TLB_USE").asLong()).isPositive();
    assertThat(json.at("/violations").size()).isPositive();
    for (JsonNode violation : json.at("/violations")) {
      assertThat(violation.get("cycle").asLong())
          .as(violation.toString())
          .isGreaterThanOrEqualTo(firstFreeAfterAFill(violation.get("history")));
    }
  }

  @Test
  void oomReapFullmm_readmeExample_reportsStaleUses_eachAfterItsFramesFree() throws Exception {
    // The README's example at its defaults: the victims run while the reap interleaves with
    // them, so the loads and stores they make after a free (arm64 skipped the flush) are stale.
    Path result = dir.resolve("default.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "oom-reap",
            "--set",
            "/kernel/variants/oomReaperGather=fullmm",
            "-q",
            "--out",
            result.toString());

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/STALE_TLB_USE").asLong()).isPositive();
    for (JsonNode violation : json.at("/violations")) {
      assertThat(violation.get("cycle").asLong())
          .as(violation.toString())
          .isGreaterThanOrEqualTo(firstFreeAfterAFill(violation.get("history")));
    }
  }

  @Test
  void writeback_storeOfALaggingCoreBeforeTheWriteback_isNotALostWrite() throws Exception {
    // On this machine a writer behind the flusher's clock stores through its still-writable
    // entry after the flusher's atomic writeback call in host order, but before it in simulated
    // time: the store is in what was written back, so reclaim must not call it lost.
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run", "--machine", "arm64-neoverse-n1", "--workload", "writeback", "-q");

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
  }

  private static long firstFreeAfterAFill(JsonNode history) {
    return TlbFlushWaitCliTest.firstFreeAfterAFill(history);
  }
}
