package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The bug class causal time makes visible, through {@code mmuemu run} (issue 12): with {@code
 * tlbFlushWait=none} the arch flush returns before its invalidations have reached the other cores
 * (arm64 before {@code DSB ISH}, x86 before the IPI acknowledgements or {@code TLBSYNC}),
 * mmu_gather frees the reaped pages, and the victim threads, still storing, reach freed frames
 * through their TLBs until the invalidation lands: {@code STALE_TLB_USE} on every built-in machine,
 * each stamped at or after its frame's free. With {@code complete} (Linux) the same run is clean.
 */
final class TlbFlushWaitCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CYCLE = Pattern.compile("^cycle (\\d+) ");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(
      strings = {"arm64-neoverse-n1", "arm64-apple-m2", "x86-skylake", "x86-haswell", "x86-zen4"})
  void none_freesBeforeTheFlushCompletes_andVictimsUseTheFreedPages(String machine)
      throws Exception {
    Path result = dir.resolve("none.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            machine,
            "--workload",
            "oom-reap",
            "--set",
            "/kernel/variants/tlbFlushWait=none",
            "-q",
            "--out",
            result.toString());

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.VIOLATIONS);
    JsonNode json = JSON.readTree(result.toFile());
    assertThat(json.at("/violationCounts/STALE_TLB_USE").asLong()).isPositive();
    for (JsonNode violation : json.at("/violations")) {
      if (!violation.get("kind").asText().equals("STALE_TLB_USE")) {
        continue;
      }
      assertThat(violation.get("cycle").asLong())
          .as(violation.toString())
          .isGreaterThanOrEqualTo(firstFreeAfterAFill(violation.get("history")));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"arm64-neoverse-n1", "arm64-apple-m2", "x86-skylake", "x86-haswell", "x86-zen4"})
  void complete_waitsBeforeFreeing_andReportsNothing(String machine) throws Exception {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            machine,
            "--workload",
            "oom-reap",
            "--set",
            "/kernel/variants/tlbFlushWait=complete",
            "-q");

    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
  }

  static long firstFreeAfterAFill(JsonNode history) {
    boolean filled = false;
    long first = Long.MAX_VALUE;
    for (JsonNode line : history) {
      String text = line.asText();
      filled |= text.contains(" tlb filled");
      if (filled && text.contains(" freed")) {
        Matcher m = CYCLE.matcher(text);
        assertThat(m.find()).as(text).isTrue();
        first = Math.min(first, Long.parseLong(m.group(1)));
      }
    }
    assertThat(first).as("a free after a fill in " + history).isNotEqualTo(Long.MAX_VALUE);
    return first;
  }
}
