package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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
  private static final List<String> PARAMS =
      List.of("madviseThreads=2", "samePage=1", "iterations=100");

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void noNestedCheck_returnsWhileAnotherZapOfThePageIsUnflushed(String machine) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            machine, "dontneed-touch", "madviseFlushBatching", "noNestedCheck", PARAMS);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/UNFLUSHED_ALIAS").asLong()).isPositive();
    assertThat(run.result().at("/violations/0/detail").asText())
        .startsWith("after madvise(MADV_DONTNEED) returned");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64-neoverse-n1", "x86-skylake"})
  void flushNested_flushesTheMmWhenAnotherGatherIsPending(String machine) throws Exception {
    CliTestSupport.VariantRun run =
        CliTestSupport.runVariant(
            machine, "dontneed-touch", "madviseFlushBatching", "flushNested", PARAMS);

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/latency/madvise/count").asLong()).isEqualTo(200);
  }
}
