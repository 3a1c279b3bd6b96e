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
 * The 2017 concurrent MADV_DONTNEED bug (DOMAIN.md §3.7) through {@code mmuemu run}: two threads
 * zap the same page under the mmap read lock. With {@code madviseFlushBatching=noNestedCheck} the
 * one that finds the PTE already cleared gathers nothing and returns without a flush while the
 * other's gather is still open, so a TLB still translates the page ({@code UNFLUSHED_ALIAS}); with
 * {@code flushNested} (the fix) it sees the other gather pending and flushes the whole mm.
 */
final class MadviseFlushBatchingCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private CliTestSupport.Outcome run(String machine, String batching, Path out) throws Exception {
    return CliTestSupport.run(
        "run",
        "--machine",
        machine,
        "--workload",
        "dontneed-touch",
        "--param",
        "dontneedThreads=2",
        "--param",
        "iterations=100",
        "--set",
        "/kernel/variants/madviseFlushBatching=" + batching,
        "-q",
        "--out",
        out.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void noNestedCheck_returnsWhileAnotherZapOfThePageIsUnflushed(String machine) throws Exception {
    Path result = dir.resolve("buggy.json");
    CliTestSupport.Outcome outcome = run(machine, "noNestedCheck", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/UNFLUSHED_ALIAS").asLong()).isPositive();
    assertThat(json.at("/violations/0/detail").asText())
        .startsWith("after madvise(MADV_DONTNEED) returned");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void flushNested_flushesTheMmWhenAnotherGatherIsPending(String machine) throws Exception {
    Path result = dir.resolve("fixed.json");
    CliTestSupport.Outcome outcome = run(machine, "flushNested", result);

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
  }
}
