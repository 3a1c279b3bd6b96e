package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.result.RunResult;

/**
 * The result's {@code host} section says which Java ran, what carried the cores' work and how many
 * hand-overs between workers exact ordering took; the summary's host line says the same, with a
 * hint when each hand-over was a thread wake-up.
 */
final class HostFactsCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] CONTENDED =
      "run --machine arm64-neoverse-n1 --workload fork-exit --param processes=4 --json --quiet"
          .split(" ");

  private static JsonNode host(String... args) throws Exception {
    CliTestSupport.Outcome outcome = CliTestSupport.run(args);
    assertThat(outcome.exitCode()).isZero();
    return JSON.readTree(outcome.out()).get("host");
  }

  @Test
  void contendedFaults_handOver_andTheCountIsTheSameEveryRun() throws Exception {
    JsonNode first = host(CONTENDED);
    JsonNode second = host(CONTENDED);

    assertThat(first.get("handOvers").asLong()).isGreaterThan(1_000);
    assertThat(second.get("handOvers")).isEqualTo(first.get("handOvers"));
    assertThat(first.get("java").asText()).isEqualTo(System.getProperty("java.version"));
    // the test JVMs open jdk.internal.vm as the jar's manifest does
    assertThat(first.get("workers").asText())
        .isEqualTo(Runtime.version().feature() >= 21 ? "continuation" : "platform");
  }

  @Test
  void oneCoreOnly_neverHandsOver() throws Exception {
    JsonNode host =
        host(
            "run --machine arm64-neoverse-n1 --workload stream --param threads=1"
                .concat(" --param accesses=2000 --json --quiet")
                .split(" "));
    assertThat(host.get("handOvers").asLong()).isZero();
  }

  private static String summaryWith(RunResult result, RunResult.Host host) {
    StringWriter text = new StringWriter();
    try (PrintWriter w = new PrintWriter(text)) {
      new Summary(result.withHost(host), 3.0).print(w, null);
    }
    return text.toString();
  }

  @Test
  void summary_hintsAtJava21_onlyWhenManyHandOversWokeThreads() throws Exception {
    RunResult result = ResultJson.fromJson(CliTestSupport.run(CONTENDED).out());
    String platform =
        summaryWith(
            result, new RunResult.Host(40.0, 1e4, "0.1.0", "17.0.15", "platform", 2_500_000));
    assertThat(platform)
        .containsPattern(
            "host +40.00 s, 10,000 translations/s, 2,500,000 hand-overs \\(platform\\),"
                + " Java 17.0.15, mmuemu 0.1.0")
        .containsPattern("hint +each hand-over woke a thread; on Java 21\\+");

    assertThat(
            summaryWith(
                result, new RunResult.Host(4.0, 1e5, "0.1.0", "25.0.3", "continuation", 2_500_000)))
        .doesNotContain("hint");
    assertThat(
            summaryWith(result, new RunResult.Host(0.1, 1e5, "0.1.0", "17.0.15", "platform", 12)))
        .doesNotContain("hint");
  }
}
