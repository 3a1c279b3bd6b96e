package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * Golden results: every built-in machine runs a small instance of every workload through {@code
 * mmuemu run --out}, and the result file outside {@code host} must equal the checked-in copy in
 * {@code src/test/resources/golden/<machine>/<case>.json} byte for byte. A change of any simulated
 * figure (a cycle, a count, a percentile) therefore fails here and shows in review as a diff of the
 * golden file.
 *
 * <p>To accept a change on purpose, regenerate with {@code -Dgolden.update=true} (see {@link
 * #REGENERATE}) and commit the golden files with the change that explains them.
 */
final class GoldenResultsTest {
  static final String REGENERATE =
      "mvn -B -pl emulator-app -am verify -Dtest=GoldenResultsTest "
          + "-Dsurefire.failIfNoSpecifiedTests=false -Dgolden.update=true";

  /** Every built-in machine, so a new one cannot ship without golden results. */
  private static final List<String> MACHINES =
      List.copyOf(
          new org.mmuemu.configs.MachineConfigLoader(org.mmuemu.core.isa.IsaRegistry.load())
              .builtInMachineNames());

  /**
   * One small run per workload (test_vmalloc twice: every case but full_fit and long_busy_list,
   * whose fixed sizes cost seconds, and the huge-vmap path), parameters chosen so the whole set
   * takes seconds.
   */
  private static final List<GoldenCase> CASES =
      List.of(
          new GoldenCase(
              "stream", "stream", "accesses=2000", "workingSetBytes=256KiB", "codeBytes=8KiB"),
          new GoldenCase("munmap-storm", "munmap-storm", "iterations=4", "regionBytes=64KiB"),
          new GoldenCase(
              "test_vmalloc",
              "test_vmalloc",
              "run_test_mask=2041",
              "test_loop_count=8",
              "nr_pcpu_objects=64",
              "nr_pages=4"),
          new GoldenCase(
              "test_vmalloc-huge",
              "test_vmalloc",
              "run_test_mask=1",
              "test_loop_count=4",
              "nr_pages=1024",
              "use_huge=1"),
          new GoldenCase("dontneed-touch", "dontneed-touch", "iterations=20", "pagesPerThread=4"),
          new GoldenCase("fork-exit", "fork-exit", "processes=3", "memoryBytes=64KiB"),
          new GoldenCase(
              "oom-reap", "oom-reap", "rounds=2", "memoryBytes=64KiB", "storesAfterReap=4"),
          new GoldenCase("fault-scaling", "fault-scaling", "rounds=2", "regionBytes=128KiB"),
          new GoldenCase(
              "numa-scan",
              "numa-scan",
              "vmasPerThread=1",
              "vmaBytes=16KiB",
              "accesses=6000",
              "scanPeriodUs=2",
              "firstTouch=owner"),
          new GoldenCase(
              "writeback",
              "writeback",
              "filePages=64",
              "writes=200",
              "dontneedEvery=50",
              "flushIntervalCycles=20000"),
          new GoldenCase(
              "fork-cow",
              "fork-cow",
              "forks=2",
              "heapBytes=64KiB",
              "fileBytes=16KiB",
              "parentWrites=8",
              "childWrites=8",
              "pinPages=4"),
          new GoldenCase("device-exclusive", "device-exclusive", "rounds=4", "pages=4"),
          new GoldenCase(
              "uffd-wp-perf", "uffd-wp-perf", "mode=pre-read", "regionBytes=2MiB", "writes=4"),
          new GoldenCase("launch-storm", "launch-storm", "stacks=2", "stackBytes=16KiB"),
          new GoldenCase(
              "mprotect-flipper", "mprotect-flipper", "regionBytes=32KiB", "targetBytes=16KiB"));

  @TempDir Path dir;

  /** A named golden run: the workload and its {@code --param name=value} settings. */
  record GoldenCase(String name, String workload, String... params) {
    String[] runArgs(String machine, Path out) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "run",
                  "--machine",
                  machine,
                  "--workload",
                  workload,
                  "--seed",
                  "1",
                  "--quiet",
                  "--out",
                  out.toString()));
      for (String param : params) {
        args.add("--param");
        args.add(param);
      }
      return args.toArray(String[]::new);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> everyMachineAndCase() {
    return MACHINES.stream().flatMap(machine -> CASES.stream().map(c -> Arguments.of(machine, c)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyMachineAndCase")
  void result_outsideHost_matchesTheGoldenFile(String machine, GoldenCase goldenCase)
      throws IOException {
    String actual = runOutsideHost(machine, goldenCase);
    Path golden = goldenDirectory().resolve(machine).resolve(goldenCase.name() + ".json");
    if (Boolean.getBoolean("golden.update")) {
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
      return;
    }
    if (!Files.exists(golden)) {
      fail("golden file " + golden + " is missing; to create it on purpose run: " + REGENERATE);
    }
    String expected = Files.readString(golden, StandardCharsets.UTF_8);
    if (!expected.equals(actual)) {
      fail(
          GoldenDiff.describe(golden, expected, actual)
              + "\nIf the change is intended, regenerate with: "
              + REGENERATE
              + " and commit the golden files with it.");
    }
  }

  @Test
  void goldenRun_twice_isByteIdentical() throws IOException {
    // test_vmalloc shuffles its test order per worker from the seed and interleaves every core
    for (String machine : MACHINES) {
      GoldenCase goldenCase = CASES.get(2);
      Path first = runToFile(machine, goldenCase, "first.json");
      Path second = runToFile(machine, goldenCase, "second.json");
      assertThat(withoutHost(Files.readString(second)))
          .as(machine)
          .isEqualTo(withoutHost(Files.readString(first)));
    }
  }

  @Test
  void goldenDiff_namesTheFileAndTheFirstDifferingLine() {
    String message =
        GoldenDiff.describe(
            Path.of("golden/m/w.json"),
            "{\n  \"a\": 1,\n  \"b\": 2\n}\n",
            "{\n  \"a\": 1,\n  \"b\": 3\n}\n");
    assertThat(message)
        .contains("golden/m/w.json")
        .contains("line 3")
        .contains("\"b\": 2")
        .contains("\"b\": 3");
  }

  @Test
  void withoutHost_removesOnlyTheHostMember() {
    String json = "{\n  \"violations\": [],\n  \"host\": {\n    \"wallSeconds\": 1.0\n  }\n}\n";
    assertThat(withoutHost(json)).isEqualTo("{\n  \"violations\": []\n}\n");
  }

  private String runOutsideHost(String machine, GoldenCase goldenCase) throws IOException {
    return withoutHost(
        Files.readString(runToFile(machine, goldenCase, "result.json"), StandardCharsets.UTF_8));
  }

  private Path runToFile(String machine, GoldenCase goldenCase, String fileName) {
    Path out = dir.resolve(machine + "-" + goldenCase.name() + "-" + fileName);
    CliTestSupport.Outcome outcome = CliTestSupport.run(goldenCase.runArgs(machine, out));
    assertThat(outcome.exitCode())
        .as("exit code of %s on %s; stderr: %s", goldenCase, machine, outcome.err())
        .isIn(ExitCodes.OK, ExitCodes.VIOLATIONS);
    return out;
  }

  /**
   * The result text without its {@code host} member, which holds wall time and the version: the
   * writer puts {@code host} last, so the text up to it (less the comma) plus the closing brace is
   * everything else, byte for byte as written.
   */
  static String withoutHost(String json) {
    String marker = ",\n  \"host\": {\n";
    int start = json.indexOf(marker);
    assertThat(start).as("result JSON has a top-level host member written last").isPositive();
    int end = json.indexOf("\n  }\n}\n", start);
    assertThat(end)
        .as("host is the last member of the result")
        .isPositive()
        .isEqualTo(json.length() - "\n  }\n}\n".length());
    return json.substring(0, start) + "\n}\n";
  }

  private static Path goldenDirectory() {
    // Surefire runs in the module directory; the source copy (not target/) is what review sees.
    return Path.of(System.getProperty("golden.dir", "src/test/resources/golden"));
  }

  /** Describes where two texts first differ, line by line. */
  static final class GoldenDiff {
    private GoldenDiff() {}

    static String describe(Path golden, String expected, String actual) {
      String[] want = expected.split("\n", -1);
      String[] got = actual.split("\n", -1);
      int line = 0;
      while (line < want.length && line < got.length && want[line].equals(got[line])) {
        line++;
      }
      return "result differs from golden file "
          + golden
          + " at line "
          + (line + 1)
          + ":\n  golden: "
          + (line < want.length ? want[line] : "<end of file>")
          + "\n  actual: "
          + (line < got.length ? got[line] : "<end of file>");
    }
  }
}
