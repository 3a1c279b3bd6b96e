package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.mmuemu.app.runner.ExitCodes;

/** Runs the CLI in-process and captures its streams. */
final class CliTestSupport {
  private CliTestSupport() {}

  record Outcome(int exitCode, String out, String err) {}

  static Outcome run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Outcome(code, out.toString(), err.toString());
  }

  /**
   * Runs {@code mmuemu run --machine machine --workload workload --json --quiet} with {@code
   * moreArgs} ({@code --param} / {@code --set} pairs), asserts exit 0 with nothing on stderr, and
   * returns the result JSON.
   */
  static JsonNode runResult(String machine, String workload, String... moreArgs)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of("run", "--machine", machine, "--workload", workload, "--json", "--quiet"));
    args.addAll(List.of(moreArgs));
    Outcome outcome = run(args.toArray(String[]::new));
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    return new ObjectMapper().readTree(outcome.out());
  }

  /** What {@link #runVariant} saw: the exit code, stderr and the result JSON. */
  record VariantRun(int exitCode, String err, JsonNode result) {}

  /**
   * Runs {@code mmuemu run --machine machine --workload workload --json --quiet}, with each of
   * {@code params} as a {@code --param} and {@code extraSets} as {@code --set}s, and {@code --set
   * /kernel/variants/<variant>=<value>}.
   */
  static VariantRun runVariant(
      String machine,
      String workload,
      String variant,
      String value,
      List<String> params,
      String... extraSets)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of("run", "--machine", machine, "--workload", workload, "--json", "--quiet"));
    for (String param : params) {
      args.addAll(List.of("--param", param));
    }
    for (String set : extraSets) {
      args.addAll(List.of("--set", set));
    }
    args.addAll(List.of("--set", "/kernel/variants/" + variant + "=" + value));
    Outcome outcome = run(args.toArray(String[]::new));
    JsonNode result = outcome.out().isEmpty() ? null : new ObjectMapper().readTree(outcome.out());
    return new VariantRun(outcome.exitCode(), outcome.err(), result);
  }
}
