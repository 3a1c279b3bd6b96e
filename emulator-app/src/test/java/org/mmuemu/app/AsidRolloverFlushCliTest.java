package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The arm64 ASID rollover through {@code mmuemu run}: one CPU runs 300 short-lived processes with 8
 * ASID bits (255 user ASIDs, so the generation rolls over) and a long-lived process that gets the
 * CPU after every third one. The rollover comes while another process is active, so the long-lived
 * one's ASID number is handed to a new process on the same CPU. Linux's pending local flush (the
 * default) wipes the old generation's entries first; without it the new process hits the long-lived
 * one's entry (DOMAIN.md §4.6.2).
 */
final class AsidRolloverFlushCliTest {
  private static final List<String> PARAMS =
      List.of("threads=1", "residentEvery=3", "processes=300", "memoryBytes=16KiB");

  private static CliTestSupport.VariantRun run(String asidRolloverFlush) throws Exception {
    return CliTestSupport.runVariant(
        "arm64-neoverse-n1",
        "fork-exit",
        "asidRolloverFlush",
        asidRolloverFlush,
        PARAMS,
        "/arm64/asidBits=8");
  }

  @Test
  void none_letsANewProcessHitTheEntryOfTheAddressSpaceThatHadItsAsid() throws Exception {
    CliTestSupport.VariantRun run = run("none");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(run.result().at("/violationCounts/STALE_TLB_USE").asLong()).isEqualTo(1);
    assertThat(run.result().at("/violations/0/detail").asText())
        .contains("under ASID 1")
        .contains("the ASID was reused without a flush");
    assertThat(run.result().at("/kernel/asidRollovers").asLong()).isEqualTo(1);
    assertThat(run.result().at("/kernel/asidRolloverLocalFlushes").isMissingNode()).isTrue();
  }

  @Test
  void pending_flushesBeforeTheNewGenerationRuns_andNothingIsReported() throws Exception {
    CliTestSupport.VariantRun run = run("pending");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.result().at("/kernel/asidRollovers").asLong()).isEqualTo(1);
    assertThat(run.result().at("/kernel/asidRolloverLocalFlushes").asLong()).isEqualTo(1);
  }

  @Test
  void none_onAnX86Machine_isRejectedWithItsPointer() throws Exception {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "x86-skylake",
            "--workload",
            "fork-exit",
            "--set",
            "/kernel/variants/asidRolloverFlush=none");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("/kernel/variants/asidRolloverFlush").contains("arm64 only");
  }
}
