package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * {@code mmuemu sweep}: a 2x2x2 grid gives the same results as the individual runs, runs are
 * idempotent by config hash, the Slurm array script's command works with the task index set, and
 * the aggregate CSV has a row per run.
 */
final class SweepCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GRID =
      """
      {"machines": ["arm64-neoverse-n1", "x86-skylake"], "workload": "munmap-storm",
       "params": {"threads": [1, 2], "iterations": [2]}, "sets": {"/cores": [2, 4]}}
      """;

  @TempDir Path dir;

  private JsonNode plan() throws Exception {
    Files.writeString(dir.resolve("grid.json"), GRID);
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "sweep",
            "expand",
            "--grid",
            dir.resolve("grid.json").toString(),
            "--plan",
            dir.resolve("plan.json").toString());
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.out()).contains("8 runs (indices 0 to 7)");
    return JSON.readTree(dir.resolve("plan.json").toFile());
  }

  private static JsonNode withoutHost(Path result) throws Exception {
    ObjectNode node = (ObjectNode) JSON.readTree(result.toFile());
    node.remove("host");
    return node;
  }

  @Test
  void sweep_twoByTwoByTwoGrid_givesTheSameResultsAsTheIndividualRuns() throws Exception {
    JsonNode plan = plan();
    Path results = dir.resolve("results");
    assertThat(
            CliTestSupport.run(
                    "sweep",
                    "run",
                    "--plan",
                    dir.resolve("plan.json").toString(),
                    "--all",
                    "--jobs",
                    "2",
                    "--out-dir",
                    results.toString())
                .exitCode())
        .isEqualTo(ExitCodes.OK);
    for (JsonNode run : plan.get("runs")) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "run",
                  "--machine",
                  run.get("machine").asText(),
                  "--workload",
                  "munmap-storm",
                  "--seed",
                  run.get("seed").asText(),
                  "-q"));
      run.get("params")
          .fields()
          .forEachRemaining(
              p -> args.addAll(List.of("--param", p.getKey() + "=" + p.getValue().asText())));
      run.get("sets").forEach(set -> args.addAll(List.of("--set", set.asText())));
      Path single = dir.resolve("single-" + run.get("index").asInt() + ".json");
      args.addAll(List.of("--out", single.toString()));
      assertThat(CliTestSupport.run(args.toArray(String[]::new)).exitCode())
          .isEqualTo(ExitCodes.OK);
      Path swept = results.resolve(run.get("id").asText() + ".json");
      assertThat(withoutHost(swept)).as("run %s", run.get("axes")).isEqualTo(withoutHost(single));
    }
    Path csv = dir.resolve("all.csv");
    Path html = dir.resolve("sweep.html");
    CliTestSupport.Outcome aggregate =
        CliTestSupport.run(
            "sweep",
            "aggregate",
            "--plan",
            dir.resolve("plan.json").toString(),
            "--out-dir",
            results.toString(),
            "--csv",
            csv.toString(),
            "--report",
            html.toString());
    assertThat(aggregate.exitCode()).isEqualTo(ExitCodes.OK);
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines).hasSize(9);
    assertThat(lines.get(0))
        .startsWith("index,id,machine,param:threads,param:iterations,set:/cores,seed,cycles.total");
    assertThat(lines.get(8))
        .startsWith("7," + plan.get("runs").get(7).get("id").asText() + ",x86-skylake,2,2,4,1,");
    assertThat(Files.readString(html))
        .contains("cycles.total against param:threads")
        .contains("cycles.total against set:/cores");
  }

  @Test
  void sweepRun_index_isIdempotentAndRejectsAnIndexOutsideThePlan() throws Exception {
    JsonNode plan = plan();
    String[] args = {
      "sweep",
      "run",
      "--plan",
      dir.resolve("plan.json").toString(),
      "--index",
      "5",
      "--out-dir",
      dir.resolve("r").toString()
    };
    CliTestSupport.Outcome first = CliTestSupport.run(args);
    Path result = dir.resolve("r").resolve(plan.get("runs").get(5).get("id").asText() + ".json");
    assertThat(first.out()).contains("wrote " + result);
    byte[] written = Files.readAllBytes(result);
    CliTestSupport.Outcome again = CliTestSupport.run(args);
    assertThat(again.out()).contains("exists, skipped");
    assertThat(Files.readAllBytes(result)).isEqualTo(written);
    CliTestSupport.Outcome outside =
        CliTestSupport.run(
            "sweep",
            "run",
            "--plan",
            dir.resolve("plan.json").toString(),
            "--index",
            "8",
            "--out-dir",
            dir.resolve("r").toString());
    assertThat(outside.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outside.err()).contains("--index: 8 (expected: 0 to 7");
    CliTestSupport.Outcome incomplete =
        CliTestSupport.run(
            "sweep",
            "aggregate",
            "--plan",
            dir.resolve("plan.json").toString(),
            "--out-dir",
            dir.resolve("r").toString());
    assertThat(incomplete.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(incomplete.err()).contains("no result yet for runs [0, 1, 2, 3, 4, 6, 7]");
  }

  @Test
  void slurmArrayScript_withTheTaskIndexSet_runsThatPlannedRun() throws Exception {
    JsonNode plan = plan();
    Path script = Path.of("../deploy/slurm/mmuemu-sweep.sbatch").toAbsolutePath().normalize();
    assertThat(script).exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
    builder.environment().put("SLURM_ARRAY_TASK_ID", "6");
    builder.environment().put("PLAN", dir.resolve("plan.json").toString());
    builder.environment().put("OUT_DIR", dir.resolve("shared-results").toString());
    builder
        .environment()
        .put(
            "MMUEMU",
            java + " -cp " + System.getProperty("java.class.path") + " org.mmuemu.app.Main");
    Process process = builder.start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(output).isZero();
    String id = plan.get("runs").get(6).get("id").asText();
    assertThat(output).contains("run 6 (" + id + "): wrote");
    JsonNode result = JSON.readTree(dir.resolve("shared-results").resolve(id + ".json").toFile());
    assertThat(result.get("machine").get("name").asText()).isEqualTo("x86-skylake");
    assertThat(result.get("machine").get("cores").asInt()).isEqualTo(2);
    assertThat(result.get("workload").get("params").get("threads").asText()).isEqualTo("2");
    try (var files = Files.list(dir.resolve("shared-results"))) {
      assertThat(files.count()).isEqualTo(1);
    }
  }

  @Test
  void sweepExpand_variantsAndSeeds_becomeOverridesAndAxesInGridOrder() throws Exception {
    Files.writeString(
        dir.resolve("variants.json"),
        """
        {"machines": ["arm64-neoverse-n1"], "workload": "dontneed-touch",
         "variants": {"rmapRemoval": ["delayed", "immediate"]}, "seeds": [1, 2]}
        """);
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "sweep",
            "expand",
            "--grid",
            dir.resolve("variants.json").toString(),
            "--plan",
            dir.resolve("plan.json").toString());
    assertThat(outcome.exitCode()).as(outcome.err()).isEqualTo(ExitCodes.OK);
    JsonNode runs = JSON.readTree(dir.resolve("plan.json").toFile()).get("runs");
    assertThat(runs).hasSize(4);
    assertThat(runs.get(2).get("sets").get(0).asText())
        .isEqualTo("/kernel/variants/rmapRemoval=\"immediate\"");
    assertThat(runs.get(2).get("axes").get("variant:rmapRemoval").asText()).isEqualTo("immediate");
    assertThat(runs.get(3).get("seed").asLong()).isEqualTo(2);
    assertThat(runs.get(0).get("configSha256").asText())
        .isNotEqualTo(runs.get(2).get("configSha256").asText());
    assertThat(runs.get(0).get("configSha256").asText())
        .isEqualTo(runs.get(1).get("configSha256").asText());
    assertThat(runs.get(0).get("id").asText()).isNotEqualTo(runs.get(1).get("id").asText());
  }

  @Test
  void sweepExpand_badGrid_namesEachProblemByPointer() throws Exception {
    Files.writeString(
        dir.resolve("bad.json"),
        """
        {"machines": [], "workload": "munmap-storm", "params": {"threads": 2}, "sets": {"cores": [1]},
         "seeds": [1.5], "colour": "red"}
        """);
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "sweep",
            "expand",
            "--grid",
            dir.resolve("bad.json").toString(),
            "--plan",
            dir.resolve("plan.json").toString());
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .contains("/colour: unknown key")
        .contains("/machines: array (expected: a non-empty")
        .contains("/params/threads: 2 (expected: a non-empty array")
        .contains("/sets/cores: (expected: a JSON pointer")
        .contains("/seeds/0: 1.5 (expected: an integer)")
        .doesNotContain("Exception");
    assertThat(dir.resolve("plan.json")).doesNotExist();
  }
}
