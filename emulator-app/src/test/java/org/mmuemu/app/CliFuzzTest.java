package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.CliTestSupport.Outcome;

/**
 * Seeded fuzzing of what users hand the command line: mutated machine configs and garbled traces.
 * Whatever the input, a command must end with exit 0, 1 or 2, print no stack trace, send no raw
 * control character to the terminal, and keep the heap bounded. Each part runs a fixed number of
 * cases within a few seconds; a failure names its seed and case, so it can be replayed exactly.
 */
final class CliFuzzTest {
  private static final long SEED = 20261206L;
  private static final long TIME_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(6);
  private static final String[] KEYS = {
    "name",
    "extends",
    "isa",
    "cores",
    "frequencyGHz",
    "memoryBytes",
    "accessCycles",
    "quantumCycles",
    "tlb",
    "walker",
    "kernel",
    "arm64",
    "x86",
    "provenance",
    "description"
  };

  @TempDir Path dir;

  @Test
  void mutatedConfigs_exitZeroOneOrTwo_withoutStackTraces() throws IOException {
    SplittableRandom random = new SplittableRandom(SEED);
    long deadline = System.nanoTime() + TIME_BUDGET_NANOS;
    int cases = 0;
    for (int i = 0; i < 150 && System.nanoTime() < deadline; i++, cases++) {
      String config = config(random);
      Path file = dir.resolve("c" + i + ".json");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      String what = "seed " + SEED + " case " + i + ": " + config;
      check(what, CliTestSupport.run("validate", file.toString()));
      check(
          what,
          CliTestSupport.run(
              "run",
              "--machine",
              file.toString(),
              "--workload",
              "stream",
              "--param",
              "accesses=20",
              "--param",
              "threads=1",
              "-q"));
    }
    assertThat(cases).isGreaterThan(10);
    assertBoundedHeap();
  }

  @Test
  void garbledTraces_exitZeroOneOrTwo_withoutStackTraces() throws IOException {
    SplittableRandom random = new SplittableRandom(SEED + 1);
    long deadline = System.nanoTime() + TIME_BUDGET_NANOS;
    int cases = 0;
    for (int i = 0; i < 150 && System.nanoTime() < deadline; i++, cases++) {
      byte[] trace = trace(random);
      Path file = dir.resolve("t" + i + ".txt");
      Files.write(file, trace);
      String what = "seed " + (SEED + 1) + " case " + i;
      List<String> args =
          new ArrayList<>(
              List.of(
                  "replay",
                  "--machine",
                  random.nextBoolean() ? "x86-skylake" : "arm64-neoverse-n1",
                  "--trace-file",
                  file.toString(),
                  "-q",
                  "--max-line-bytes",
                  Integer.toString(64 + random.nextInt(4096))));
      if (random.nextBoolean()) {
        args.add("--lenient");
      }
      check(what, CliTestSupport.run(args.toArray(String[]::new)));
    }
    assertThat(cases).isGreaterThan(10);
    assertBoundedHeap();
  }

  private static void check(String what, Outcome outcome) {
    String all = outcome.out() + outcome.err();
    assertThat(outcome.exitCode()).as(what + "\n" + all).isBetween(0, 2);
    assertThat(all)
        .as(what)
        .doesNotContain("\tat ")
        .doesNotContain("Exception")
        .doesNotContain("\u001b");
    assertThat(all.chars().filter(c -> c < 0x20 && c != '\n').count()).as(what).isZero();
  }

  private static void assertBoundedHeap() {
    System.gc();
    Runtime runtime = Runtime.getRuntime();
    assertThat(runtime.totalMemory() - runtime.freeMemory()).isLessThan(768L << 20);
  }

  /** A small config extending a built-in one, with a few members set to random values. */
  private static String config(SplittableRandom random) {
    StringBuilder json =
        new StringBuilder("{\"name\": \"fuzz\", \"extends\": \"")
            .append(random.nextBoolean() ? "x86-skylake" : "arm64-neoverse-n1")
            .append('"');
    int members = 1 + random.nextInt(3);
    for (int m = 0; m < members; m++) {
      json.append(", \"")
          .append(random.nextInt(10) == 0 ? randomText(random) : KEYS[random.nextInt(KEYS.length)])
          .append("\": ")
          .append(value(random, 0));
    }
    json.append('}');
    String text = json.toString();
    // Sometimes broken JSON: cut short.
    return random.nextInt(8) == 0 ? text.substring(0, random.nextInt(text.length())) : text;
  }

  private static String value(SplittableRandom random, int depth) {
    return switch (random.nextInt(depth > 2 ? 6 : 8)) {
      case 0 -> Long.toString(random.nextLong());
      case 1 -> Integer.toString(random.nextInt(-5, 5000));
      case 2 -> "\"" + randomSize(random) + "\"";
      case 3 -> "\"" + randomText(random) + "\"";
      case 4 -> random.nextBoolean() ? "true" : "null";
      case 5 -> Double.toString(random.nextDouble() * 1e6);
      case 6 -> "[" + value(random, depth + 1) + ", " + value(random, depth + 1) + "]";
      default ->
          "{\""
              + (random.nextBoolean() ? "levels" : randomText(random))
              + "\": "
              + value(random, depth + 1)
              + "}";
    };
  }

  private static String randomSize(SplittableRandom random) {
    String[] units = {"", "KiB", "MiB", "GiB", "TiB", "PiB", "B", "kb"};
    return random.nextInt(1 << 20) + units[random.nextInt(units.length)];
  }

  /** Text with JSON escapes for control characters, quotes and non-ASCII. */
  private static String randomText(SplittableRandom random) {
    StringBuilder text = new StringBuilder();
    int length = random.nextInt(12);
    for (int i = 0; i < length; i++) {
      switch (random.nextInt(5)) {
        case 0 -> text.append(String.format("\\u%04x", random.nextInt(0x20)));
        case 1 -> text.append("\\u001b[31m");
        case 2 -> text.append((char) ('a' + random.nextInt(26)));
        case 3 -> text.append("/~é東");
        default -> text.append((char) ('0' + random.nextInt(10)));
      }
    }
    return text.toString();
  }

  /** Lackey-looking lines mixed with garbage, control bytes, and now and then a long line. */
  private static byte[] trace(SplittableRandom random) {
    StringBuilder trace = new StringBuilder();
    int lines = random.nextInt(60);
    for (int i = 0; i < lines; i++) {
      switch (random.nextInt(8)) {
        case 0 ->
            trace
                .append("I  0")
                .append(Long.toHexString(random.nextLong() >>> random.nextInt(64)))
                .append(',')
                .append(random.nextInt(20));
        case 1 ->
            trace
                .append(" L ")
                .append(Long.toHexString(random.nextLong(1L << 40)))
                .append(',')
                .append(8);
        case 2 ->
            trace.append(" S ").append(Long.toHexString(random.nextLong(1L << 47))).append(",4");
        case 3 ->
            trace
                .append(" M ")
                .append(Long.toHexString(random.nextLong()))
                .append(",")
                .append(random.nextInt());
        case 4 -> trace.append("==").append(random.nextInt()).append("== banner");
        case 5 -> {
          for (int b = random.nextInt(40); b > 0; b--) {
            trace.append((char) random.nextInt(256));
          }
        }
        case 6 -> trace.append("\u001b]0;title\u0007\u001b[2J");
        default -> trace.append("7".repeat(random.nextInt(10_000)));
      }
      trace.append(random.nextInt(10) == 0 ? "\r\n" : "\n");
    }
    return trace.toString().getBytes(StandardCharsets.ISO_8859_1);
  }
}
