package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Details of Linux's x86 shootdown path, through {@code mmuemu run}: the form of INVLPGB user
 * flushes, when the mm cpumask trim starts, and concurrent flushes of one mm merging into a full
 * catch-up flush.
 */
final class X86ShootdownCliTest {
  private static JsonNode munmapStorm(String machine, int iterations, String... sets)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("--param", "iterations=" + iterations));
    for (String set : sets) {
      args.add("--set");
      args.add(set);
    }
    return CliTestSupport.runResult(machine, "munmap-storm", args.toArray(String[]::new));
  }

  /**
   * Once Zen 4 gives the storm's mm a global ASID, its flushes are INVLPGBs as Linux issues them
   * ({@code invlpgb_flush_user_nr_nosync}): by PCID and VA, without the final-translation-only
   * flag, although munmap-storm frees no page table.
   */
  @Test
  void zen4_invlpgbUserFlushes_arePcidPlusVa_neverFinalTranslationOnly() throws Exception {
    JsonNode result = munmapStorm("x86-zen4", 50);

    assertThat(result.at("/kernel/x86GlobalAsidsAssigned").asLong()).isEqualTo(1);
    JsonNode byInstruction = result.at("/maintenance/byInstruction");
    assertThat(byInstruction.get("INVLPGB").asLong()).isPositive();
    assertThat(byInstruction.has("INVLPGB FINAL_ONLY")).isFalse();
    assertThat(byInstruction.get("TLBSYNC").asLong()).isPositive();
    assertThat(result.get("violationCounts").size()).isZero();
  }

  /**
   * Linux sets an mm's {@code next_trim_cpumask} one second after its creation, so a storm that
   * lasts 6.5 ms (at 3 GHz) never trims, and one that lasts two simulated seconds (at 1 MHz,
   * jiffies of 1,000 cycles) trims once, after the first second.
   */
  @Test
  void skylake_cpumaskTrim_startsOneSecondAfterTheMmIsCreated() throws Exception {
    JsonNode short3GHz = munmapStorm("x86-skylake", 20);
    JsonNode long1MHz = munmapStorm("x86-skylake", 20, "/frequencyGHz=0.001");

    assertThat(short3GHz.at("/kernel").has("x86CpumaskTrimShootdowns")).isFalse();
    long seconds = long1MHz.at("/cycles/total").asLong() / 1_000_000L; // 1 MHz
    assertThat(seconds).isGreaterThanOrEqualTo(1);
    // one trim per mm per second at most (next_trim_cpumask = jiffies + HZ), the first after 1 s
    assertThat(long1MHz.at("/kernel/x86CpumaskTrimShootdowns").asLong()).isBetween(1L, seconds);
  }

  /**
   * Writeback's {@code folio_mkclean} flushes one page of the writers' mm at a time without an
   * mmu_gather, while the writers' own flushes run under the read lock: the requests overlap, and a
   * CPU whose handler finds itself more than one {@code tlb_gen} behind (or a newer request already
   * made) catches up with one full flush instead of the partial one it was asked for ({@code
   * flush_tlb_func}). One madvising thread alone never falls behind: every flush is partial.
   */
  @Test
  void haswell_concurrentFlushesOfOneMm_catchUpWithOneFullFlush() throws Exception {
    JsonNode writeback = CliTestSupport.runResult("x86-haswell", "writeback");
    JsonNode alone =
        CliTestSupport.runResult(
            "x86-haswell", "dontneed-touch", "--param", "threads=4", "--param", "iterations=100");

    long catchUps = writeback.at("/kernel/x86CatchUpFullFlushes").asLong();
    assertThat(catchUps).isPositive();
    assertThat(writeback.at("/kernel/x86FullFlushes").asLong()).isGreaterThanOrEqualTo(catchUps);
    assertThat(writeback.at("/kernel/x86PartialFlushes").asLong()).isPositive();
    assertThat(writeback.get("violationCounts").size()).isZero();

    assertThat(alone.at("/kernel").has("x86CatchUpFullFlushes")).isFalse();
    assertThat(alone.at("/kernel/x86PartialFlushes").asLong()).isEqualTo(4 * 100);
  }
}
