package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Details of Linux's x86 shootdown path, through {@code mmuemu run}: the form of INVLPGB user
 * flushes and when the mm cpumask trim starts.
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
}
