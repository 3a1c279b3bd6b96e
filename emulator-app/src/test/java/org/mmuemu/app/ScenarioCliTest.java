package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The race scenarios through the command line: each shows its violation with the buggy kernel and
 * nothing with the fixed one under its scripted order; explore finds each buggy one without the
 * order and nothing in the fixed one over the same budget; the schedule it prints replays the same
 * violation at the same cycle.
 */
final class ScenarioCliTest {
  private static final Pattern FIRST_VIOLATION =
      Pattern.compile("^  ([A-Z_]+) on cpu(\\d+) at cycle ([\\d,]+)", Pattern.MULTILINE);
  private static final Pattern NARRATIVE_LINE =
      Pattern.compile("^ +([\\d,]+)  cpu\\d+  .*$", Pattern.MULTILINE);
  private static final Pattern REPLAY = Pattern.compile("--schedule (\\S+)");

  @ParameterizedTest
  @CsvSource({
    "lazy-free-publish-uaf, KERNEL_UAF",
    "arm64-fullmm-oom-reaper, STALE_TLB_USE",
    "madvise-concurrent-flush-miss, UNFLUSHED_ALIAS",
    "vmap-block-stale-tlb, 'STALE_TLB_USE, UNFLUSHED_ALIAS'",
    "x86-pwc-freed-table, FREED_TABLE_WALK",
    "delayed-rmap-lost-write, LOST_WRITE",
    "vmalloc-huge-ptdump-race, FREED_TABLE_WALK",
    "arm64-asid-rollover, STALE_TLB_USE"
  })
  void scriptedOrder_buggyShowsTheBug_fixedShowsNothing(String scenario, String kinds) {
    CliTestSupport.Outcome buggy = CliTestSupport.run("scenario", scenario, "--variant", "buggy");
    assertThat(buggy.exitCode()).as(buggy.out() + buggy.err()).isEqualTo(ExitCodes.OK);
    assertThat(buggy.out())
        .contains("expected " + kinds + ", observed " + kinds + ": as expected")
        .contains("stops at");
    CliTestSupport.Outcome fixed = CliTestSupport.run("scenario", scenario, "--variant", "fixed");
    assertThat(fixed.exitCode()).as(fixed.out() + fixed.err()).isEqualTo(ExitCodes.OK);
    assertThat(fixed.out()).contains("violations: none").contains("expected none, observed none");
    assertNarrativeNeverGoesBackInTime(buggy.out());
    assertNarrativeNeverGoesBackInTime(fixed.out());
  }

  /**
   * Causal time under a script: whatever CPU the order (or the setup) switches to acts after
   * everything already told, so the narrative's cycle column never decreases.
   */
  private static void assertNarrativeNeverGoesBackInTime(String narrative) {
    Matcher line = NARRATIVE_LINE.matcher(narrative);
    long previous = -1;
    String previousLine = "";
    int lines = 0;
    while (line.find()) {
      long cycle = Long.parseLong(line.group(1).replace(",", ""));
      assertThat(cycle)
          .as("narrative line '%s' after '%s'", line.group(), previousLine)
          .isGreaterThanOrEqualTo(previous);
      previous = cycle;
      previousLine = line.group();
      lines++;
    }
    assertThat(lines).isGreaterThan(5);
  }

  @Test
  void aScenarioRunThatMissesItsExpectation_exits1() {
    // the fixed kernel's order expects nothing; replaying nothing but the earliest core on the
    // buggy kernel misses the window, so the buggy expectation fails
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "scenario", "lazy-free-publish-uaf", "--variant", "buggy", "--schedule", "0:1");
    assertThat(outcome.exitCode()).as(outcome.out()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(outcome.out()).contains("NOT as expected");
  }

  /** The full default budget, buggy and fixed. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "lazy-free-publish-uaf",
        "arm64-fullmm-oom-reaper",
        "madvise-concurrent-flush-miss"
      })
  void explore_defaultBudget_findsTheBuggyOne_andNothingInTheFixedOne(String scenario) {
    exploreBoth(scenario);
  }

  /** A smaller budget for the rest. */
  @ParameterizedTest
  @ValueSource(strings = {"x86-pwc-freed-table", "vmap-block-stale-tlb", "arm64-asid-rollover"})
  void explore_smallerBudget_findsTheBuggyOne_andNothingInTheFixedOne(String scenario) {
    exploreBoth(scenario, "--schedules", "40");
  }

  private static void exploreBoth(String scenario, String... budget) {
    CliTestSupport.Outcome buggy = explore(scenario, "buggy", budget);
    assertThat(buggy.exitCode()).as(buggy.out() + buggy.err()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(buggy.err()).contains("schedules/s");
    assertReplays(scenario, buggy.out());
    CliTestSupport.Outcome fixed = explore(scenario, "fixed", budget);
    assertThat(fixed.exitCode()).as(fixed.out()).isEqualTo(ExitCodes.OK);
    assertThat(fixed.out()).contains("no violation in");
  }

  private static CliTestSupport.Outcome explore(String scenario, String variant, String... more) {
    String[] args = new String[4 + more.length];
    args[0] = "explore";
    args[1] = scenario;
    args[2] = "--variant";
    args[3] = variant;
    System.arraycopy(more, 0, args, 4, more.length);
    return CliTestSupport.run(args);
  }

  /** The printed replay command reproduces the first violation: kind, CPU and cycle. */
  private static void assertReplays(String scenario, String exploreOut) {
    Matcher found = FIRST_VIOLATION.matcher(exploreOut);
    assertThat(found.find()).as(exploreOut).isTrue();
    Matcher schedule = REPLAY.matcher(exploreOut);
    assertThat(schedule.find()).as(exploreOut).isTrue();
    CliTestSupport.Outcome replay =
        CliTestSupport.run(
            "scenario", scenario, "--variant", "buggy", "--schedule", schedule.group(1));
    Matcher replayed = FIRST_VIOLATION.matcher(replay.out());
    assertThat(replayed.find()).as(replay.out()).isTrue();
    assertThat(replayed.group()).isEqualTo(found.group());
  }

  @ParameterizedTest
  @ValueSource(strings = {"random", "pct", "exhaustive"})
  void everyStrategy_findsTheLazyFreeRace_andIsDeterministic(String strategy) {
    CliTestSupport.Outcome first =
        explore("lazy-free-publish-uaf", "buggy", "--strategy", strategy, "--seed", "3");
    CliTestSupport.Outcome again =
        explore("lazy-free-publish-uaf", "buggy", "--strategy", strategy, "--seed", "3");
    assertThat(first.exitCode()).as(first.out()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(again.out()).isEqualTo(first.out());
  }

  @Test
  void exhaustive_runsOutOfSchedules_inTheFixedKernel() {
    CliTestSupport.Outcome outcome =
        explore("lazy-free-publish-uaf", "fixed", "--strategy", "exhaustive", "--depth", "1");
    assertThat(outcome.exitCode()).as(outcome.out()).isEqualTo(ExitCodes.OK);
    assertThat(outcome.out()).contains("(every schedule with at most 1 preemptions)");
  }

  /**
   * Sleep sets change no outcome on the shipped scenarios: with and without the reduction the
   * exhaustive search finds the same violation kinds at the same schedule (their segments are
   * kernel code, dependent with every other, so nothing is pruned), and the same clean count in the
   * fixed kernels.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "lazy-free-publish-uaf",
        "arm64-fullmm-oom-reaper",
        "madvise-concurrent-flush-miss",
        "vmap-block-stale-tlb",
        "x86-pwc-freed-table",
        "delayed-rmap-lost-write",
        "vmalloc-huge-ptdump-race",
        "arm64-asid-rollover"
      })
  void exhaustive_sameOutcome_withAndWithoutTheReduction(String scenario) {
    for (String variant : new String[] {"buggy", "fixed"}) {
      String[] budget = {"--strategy", "exhaustive", "--depth", "2", "--schedules", "60"};
      CliTestSupport.Outcome none = explore(scenario, variant, with(budget, "none"));
      CliTestSupport.Outcome reduced = explore(scenario, variant, with(budget, "sleep-sets"));
      assertThat(reduced.exitCode()).as(reduced.out()).isEqualTo(none.exitCode());
      assertThat(reduced.exitCode())
          .isEqualTo(variant.equals("buggy") ? ExitCodes.VIOLATIONS : ExitCodes.OK);
      assertThat(firstLine(reduced.out()).replaceAll("; sleep sets pruned \\d+ branches", ""))
          .isEqualTo(firstLine(none.out()).replace("reduction none", "reduction sleep-sets"));
    }
  }

  /**
   * Two CPUs storing to different pages with warm TLBs: every interleaving of their steps reaches
   * the same state, and sleep sets run 8 of the 44 schedules within 3 preemptions.
   */
  @Test
  void exhaustive_sleepSets_pruneReorderingsOfIndependentSteps() {
    String file = "src/test/resources/scenarios/disjoint-stores.json";
    String[] budget = {"--strategy", "exhaustive", "--schedules", "1000"};
    CliTestSupport.Outcome none = explore(file, "fixed", with(budget, "none"));
    CliTestSupport.Outcome reduced = explore(file, "fixed", with(budget, "sleep-sets"));
    assertThat(none.exitCode()).as(none.out() + none.err()).isEqualTo(ExitCodes.OK);
    assertThat(none.out()).contains("no violation in 44 schedules (every schedule with at most 3");
    assertThat(reduced.exitCode()).as(reduced.out()).isEqualTo(ExitCodes.OK);
    assertThat(reduced.out())
        .contains("no violation in 8 schedules (every schedule with at most 3")
        .contains("sleep sets pruned 18 branches");
  }

  private static String[] with(String[] budget, String reduction) {
    String[] args = java.util.Arrays.copyOf(budget, budget.length + 2);
    args[budget.length] = "--reduction";
    args[budget.length + 1] = reduction;
    return args;
  }

  private static String firstLine(String text) {
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end);
  }

  @Test
  void anOrderEntryThatIsNeverReached_isReported(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("typo.json");
    String shipped =
        new String(
            ScenarioCliTest.class
                .getClassLoader()
                .getResourceAsStream("org/mmuemu/configs/scenarios/lazy-free-publish-uaf.json")
                .readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8);
    Files.writeString(
        file,
        shipped.replace(
            "\"free_vmap_area_noflush:published\"", "\"free_vmap_area_noflush:publish\""));
    CliTestSupport.Outcome outcome =
        CliTestSupport.run("scenario", file.toString(), "--variant", "buggy");
    assertThat(outcome.exitCode()).as(outcome.out()).isEqualTo(ExitCodes.VIOLATIONS);
    assertThat(outcome.out())
        .contains(
            "order /order/0 (cpu 0 until free_vmap_area_noflush:publish): never reached, cpu 0"
                + " finished its program first")
        .contains("expected KERNEL_UAF, observed none: NOT as expected");
  }

  @Test
  void outAndTrace_writeTheResultAndTheTrace_asRunDoes(@TempDir Path dir) throws Exception {
    Path result = dir.resolve("r.json");
    Path trace = dir.resolve("t.jsonl");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "scenario",
            "lazy-free-publish-uaf",
            "--variant",
            "buggy",
            "--machine",
            "x86-haswell",
            "--out",
            result.toString(),
            "--trace",
            trace.toString());
    assertThat(outcome.exitCode()).as(outcome.out() + outcome.err()).isEqualTo(ExitCodes.OK);
    com.fasterxml.jackson.databind.JsonNode json =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(result.toFile());
    assertThat(json.path("machine").path("name").asText()).isEqualTo("x86-haswell");
    assertThat(json.path("workload").path("name").asText())
        .isEqualTo("scenario:lazy-free-publish-uaf");
    assertThat(json.path("violationCounts").path("KERNEL_UAF").asInt()).isEqualTo(1);
    assertThat(Files.readString(trace)).contains("\"operation\":\"purge_vmap_area_lazy\"");
  }

  @Test
  void aScheduleThatDoesNotFit_isReported() {
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "scenario",
            "lazy-free-publish-uaf",
            "--variant",
            "fixed",
            "--schedule",
            "5:1,0:100000");
    assertThat(outcome.exitCode()).as(outcome.out()).isEqualTo(ExitCodes.OK);
    assertThat(outcome.out())
        .contains("schedule: choice 1 names cpu5, which could not run there")
        .containsPattern("schedule: the run ended after \\d+ of its 100001 choices");
  }

  @Test
  void listScenarios_namesEveryShippedScenario() {
    CliTestSupport.Outcome outcome = CliTestSupport.run("list", "scenarios");
    assertThat(outcome.exitCode()).isZero();
    assertThat(outcome.out())
        .contains("lazy-free-publish-uaf ")
        .contains("arm64-fullmm-oom-reaper ")
        .contains("madvise-concurrent-flush-miss ")
        .contains("vmap-block-stale-tlb ")
        .contains("x86-pwc-freed-table ");
  }

  @Test
  void badScenarioFile_getsPointerPreciseErrors_exit2(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(
        file,
        "{\"description\": \"d\", \"machine\": \"x86-skylake\","
            + " \"variants\": {\"buggy\": {\"expect\": \"KERNEL_UAFF\"}, \"fixed\": {\"expect\": \"none\"}},"
            + " \"programs\": [[{\"op\": \"vfre\", \"area\": \"a\"}, {\"op\": \"vfree\"}]]}");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run("scenario", file.toString(), "--variant", "buggy");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.out()).isEmpty();
    assertThat(outcome.err())
        .contains(file + ": /programs/0/0/op: \"vfre\" (expected one of: process, switch")
        .contains(file + ": /programs/0/1/area: missing (expected: a name, required by vfree)")
        .contains(
            file + ": /variants/buggy/expect: \"KERNEL_UAFF\" (expected: none or a violation kind")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
  }

  @Test
  void badFlags_exit2() {
    assertThat(CliTestSupport.run("scenario", "lazy-free-publish-uaf", "--variant", "broken").err())
        .contains("--variant: broken (expected one of: buggy, fixed)");
    assertThat(
            CliTestSupport.run(
                    "scenario", "lazy-free-publish-uaf", "--variant", "buggy", "--schedule", "x:1")
                .exitCode())
        .isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(CliTestSupport.run("scenario", "no-such-scenario", "--variant", "buggy").err())
        .contains("no-such-scenario: no such built-in scenario or file");
    assertThat(
            CliTestSupport.run(
                    "explore", "lazy-free-publish-uaf", "--variant", "buggy", "--strategy", "dfs")
                .err())
        .contains("--strategy: dfs (expected one of: random, pct, exhaustive)");
    CliTestSupport.Outcome badReduction =
        CliTestSupport.run(
            "explore", "lazy-free-publish-uaf", "--variant", "buggy", "--reduction", "dpor");
    assertThat(badReduction.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(badReduction.err())
        .contains("--reduction: dpor (expected one of: sleep-sets, none)");
  }
}
