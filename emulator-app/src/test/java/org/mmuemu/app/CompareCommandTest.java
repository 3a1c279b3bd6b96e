package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * {@code mmuemu compare} through the command line: the Markdown report against a golden file,
 * reports that do not depend on the pool size, the spec form, and bad specs rejected with their
 * JSON pointer.
 */
final class CompareCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A tiny deterministic comparison: two ISAs, two threads, two munmap iterations. */
  static final String[] TINY = {
    "--machine",
    "arm64-neoverse-n1",
    "--machine",
    "x86-skylake",
    "--workload",
    "munmap-storm",
    "--param",
    "iterations=2",
    "--param",
    "threads=2",
    "--set",
    "/cores=2"
  };

  @TempDir Path dir;

  private static String[] args(String[] base, String... rest) {
    return Stream.concat(Stream.concat(Stream.of("compare"), Stream.of(base)), Stream.of(rest))
        .toArray(String[]::new);
  }

  @Test
  void compare_tinyRun_markdownAndHtmlMatchGoldenFiles() throws Exception {
    Path markdown = dir.resolve("report.md");
    Path html = dir.resolve("report.html");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            args(
                TINY,
                "--markdown",
                markdown.toString(),
                "--report",
                html.toString(),
                "--jobs",
                "2"));
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    String text =
        Golden.withoutVersion(Files.readString(markdown))
            .replace(markdown.toString(), "report.md")
            .replace(html.toString(), "report.html");
    Golden.assertMatches(text, "compare-tiny.md");
    String page =
        Golden.withoutVersion(Files.readString(html))
            .replace(markdown.toString(), "report.md")
            .replace(html.toString(), "report.html");
    Golden.assertMatches(page, "compare-tiny.html");
  }

  @Test
  void compare_reportsAreByteIdenticalWhateverThePoolSize() throws Exception {
    Path markdown = dir.resolve("r.md");
    Path html = dir.resolve("r.html");
    String[] threeColumns =
        args(
            TINY,
            "--machine",
            "arm64-apple-m2",
            "--markdown",
            markdown.toString(),
            "--report",
            html.toString());
    String[] serial =
        Stream.concat(Stream.of(threeColumns), Stream.of("--jobs", "1")).toArray(String[]::new);
    assertThat(CliTestSupport.run(serial).exitCode()).isEqualTo(ExitCodes.OK);
    byte[] serialMarkdown = Files.readAllBytes(markdown);
    byte[] serialHtml = Files.readAllBytes(html);
    String[] parallel =
        Stream.concat(Stream.of(threeColumns), Stream.of("--jobs", "3")).toArray(String[]::new);
    assertThat(CliTestSupport.run(parallel).exitCode()).isEqualTo(ExitCodes.OK);
    assertThat(Files.readAllBytes(markdown)).isEqualTo(serialMarkdown);
    assertThat(Files.readAllBytes(html)).isEqualTo(serialHtml);
    assertThat(new String(serialHtml))
        .contains("<svg class=\"chart\" id=\"breakdown\"")
        .contains("id=\"cdf-munmap\"")
        .doesNotContain("http://", "https://", "<script");
  }

  @Test
  void compare_out_keepsEveryColumnsResultAndMatchesPlainRuns() throws Exception {
    Path out = dir.resolve("all.json");
    assertThat(CliTestSupport.run(args(TINY, "--out", out.toString(), "-q")).exitCode())
        .isEqualTo(ExitCodes.OK);
    JsonNode root = JSON.readTree(out.toFile());
    assertThat(root.get("columns")).hasSize(2);
    Path single = dir.resolve("single.json");
    assertThat(
            CliTestSupport.run(
                    "run",
                    "--machine",
                    "x86-skylake",
                    "--workload",
                    "munmap-storm",
                    "--param",
                    "iterations=2",
                    "--param",
                    "threads=2",
                    "--set",
                    "/cores=2",
                    "--out",
                    single.toString(),
                    "-q")
                .exitCode())
        .isEqualTo(ExitCodes.OK);
    JsonNode column = root.get("columns").get(1);
    assertThat(column.get("label").asText()).isEqualTo("x86-skylake");
    JsonNode expected = JSON.readTree(single.toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) expected).remove("host");
    ((com.fasterxml.jackson.databind.node.ObjectNode) column.get("result")).remove("host");
    assertThat(column.get("result")).isEqualTo(expected);
    assertThat(column.get("cycleBreakdown").get("ipis").asLong()).isPositive();
  }

  @Test
  void compare_spec_runsLabelledColumnsWithTheirOverrides() throws Exception {
    Path spec = dir.resolve("compare.json");
    Files.writeString(
        spec,
        """
        {"workload": "munmap-storm", "seed": 3, "params": {"iterations": 2},
         "columns": [
           {"label": "n1-2t", "machine": "arm64-neoverse-n1", "params": {"threads": 2}, "sets": {"/cores": 2}},
           {"label": "n1-1t", "machine": "arm64-neoverse-n1", "params": {"threads": 1}, "sets": {"/cores": 2}}]}
        """);
    Path markdown = dir.resolve("spec.md");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run("compare", "--spec", spec.toString(), "--markdown", markdown.toString());
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    String text = Files.readString(markdown);
    assertThat(text)
        .contains("# mmuemu compare: munmap-storm, seed 3")
        .contains("| n1-2t | arm64-neoverse-n1 |")
        .contains("iterations=2 regionBytes=65536 threads=1")
        .contains("/cores=2")
        .contains("| metric | n1-2t | n1-1t | n1-1t / n1-2t |");
  }

  @Test
  void compare_badSpec_namesEachProblemByPointer() throws Exception {
    Path spec = dir.resolve("bad.json");
    Files.writeString(
        spec,
        """
        {"workload": "munmap-storm", "colums": [],
         "columns": [{"label": "a b", "machine": "arm64-neoverse-n1", "params": {"threads": [1]}},
                     {"machine": 7}]}
        """);
    CliTestSupport.Outcome outcome = CliTestSupport.run("compare", "--spec", spec.toString());
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .contains("/colums: unknown key")
        .contains("/columns/0/label: \"a b\"")
        .contains("/columns/0/params/threads: array")
        .contains("/columns/1/label: missing")
        .contains("/columns/1/machine: 7")
        .doesNotContain("Exception");
  }

  @Test
  void compare_reportInMissingDirectory_failsBeforeAnyColumnRunsAndWritesNothing()
      throws Exception {
    Path markdown = dir.resolve("fine.md");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            args(
                TINY,
                "--markdown",
                markdown.toString(),
                "--report",
                dir.resolve("no/such/dir/r.html").toString()));
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("--report").contains("no such directory");
    assertThat(markdown).doesNotExist();
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void compare_badColumnConfig_namesTheColumnAndWritesNothing() throws Exception {
    Path markdown = dir.resolve("never.md");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "compare",
            "--machine",
            "arm64-neoverse-n1",
            "--machine",
            "no-such-machine",
            "--workload",
            "stream",
            "--markdown",
            markdown.toString());
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("column no-such-machine:");
    assertThat(markdown).doesNotExist();
  }
}
