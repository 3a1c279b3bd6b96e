package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmuemu.app.runner.ExitCodes;

/**
 * What the README and docs/ say a command prints is what it prints, checked through the same CLI
 * path a user takes:
 *
 * <ul>
 *   <li>the README's table of variants ("What each variant changes in a run, measured"): for each
 *       value, the violations a row names as {@code `KIND=count`} or "no violation" (and, in a
 *       parenthesis, the count on the machine the row does likewise), the counters it quotes as
 *       {@code `name` 123}, and the total cycles a cell ends with; every row states one of these;
 *   <li>every {@code $ ./mmuemu run ...} block with output: the lines it shows ({@code ...} lines
 *       and the host line left out);
 *   <li>the measured tables with one run per machine (munmap-storm, fork-cow, numa-scan,
 *       device-exclusive, the workload latencies): every figure they quote is one their run prints,
 *       in a form the docs write it in.
 * </ul>
 *
 * <p>A change that moves a documented figure therefore fails here until the text is re-measured
 * with it, as a golden file does for the results themselves. The runs are independent, so the cases
 * run two at a time (a few of them are long test_vmalloc runs).
 */
@Execution(ExecutionMode.CONCURRENT)
final class DocumentedFiguresTest {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final String TABLE_LEAD = "What each variant changes in a run, measured";
  private static final Pattern VIOLATION = Pattern.compile("`([A-Z][A-Z_]+)=(\\d+)`");
  private static final Pattern COUNTER = Pattern.compile("`([a-z][A-Za-z0-9]+)` (\\d[\\d,]*)");
  private static final Pattern LIKEWISE = Pattern.compile("\\(((?:x86|arm64)-[a-z0-9-]+) likewise");
  private static final Pattern VARIANT_SET = Pattern.compile("--set /kernel/variants/\\S+");
  // a cell that ends with a whole number of cycles states the run's total
  private static final Pattern TOTAL_CYCLES =
      Pattern.compile("(?<![\\w.,])(\\d{1,3}(?:,\\d{3})+|\\d+) cycles$");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One row of the variant table: its command, and its default and other-value cells. */
  record Row(int line, String command, String note, String defaultCell, String otherCell) {
    @Override
    public String toString() {
      return "README.md:" + line;
    }
  }

  static Stream<Arguments> variantRows() throws IOException {
    List<String> lines = Files.readAllLines(REPO.resolve("README.md"), StandardCharsets.UTF_8);
    int start = theLineStartingWith(lines, TABLE_LEAD, "README.md");
    List<Arguments> rows = new ArrayList<>();
    for (int i = start + 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() && !rows.isEmpty()) {
        break;
      }
      if (!line.startsWith("| `./mmuemu run ")) {
        continue;
      }
      String[] cells = line.split(" \\| ");
      assertThat(cells).as("README.md:%d has three cells", i + 1).hasSize(3);
      String first = cells[0].substring(2);
      int close = first.indexOf('`', 1);
      String command = first.substring(1, close);
      String otherCell = cells[2].substring(0, cells[2].lastIndexOf('|')).trim();
      rows.add(
          Arguments.of(
              new Row(i + 1, command, first.substring(close + 1), cells[1].trim(), otherCell)));
    }
    assertThat(rows).as("rows of the variant table").hasSizeGreaterThan(10);
    return rows.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variantRows")
  void variantTableRow_statesWhatTheRunsReport(Row row) throws IOException {
    int checked = checkCell(row, "other value", row.command(), row.otherCell());
    checked += checkCell(row, "default", withoutLastVariant(row.command()), row.defaultCell());

    Map<String, Long> violations = violations(row.otherCell());
    Matcher likewise = LIKEWISE.matcher(row.note());
    if (likewise.find() && violations.size() == 1) {
      String machine = likewise.group(1);
      Matcher count =
          Pattern.compile("\\(" + Pattern.quote(machine) + ": (\\d+)\\)").matcher(row.otherCell());
      if (count.find()) {
        String[] onMachine = args(row.command());
        onMachine[Arrays.asList(onMachine).indexOf("--machine") + 1] = machine;
        JsonNode result = run(row, onMachine, ExitCodes.VIOLATIONS);
        assertThat(violationCounts(result))
            .as("%s, other value on %s", row, machine)
            .isEqualTo(
                Map.of(violations.keySet().iterator().next(), Long.parseLong(count.group(1))));
        checked++;
      }
    }
    assertThat(checked)
        .as(
            "%s states something this test can check: `KIND=n`, \"no violation\", `counter` n,"
                + " or a cell ending in the run's total cycles",
            row)
        .isPositive();
  }

  /**
   * Checks what one cell states about the run of {@code command}: its violations ({@code `KIND=n`}
   * or "no violation"), its counters, and the total cycles a cell ends with. Returns how many of
   * those it checked.
   */
  private static int checkCell(Row row, String which, String command, String cell)
      throws IOException {
    Map<String, Long> violations = violations(cell);
    Map<String, Long> counters = counters(cell);
    boolean clean = cell.contains("no violation");
    Matcher total = TOTAL_CYCLES.matcher(cell);
    boolean hasTotal = total.find();
    if (violations.isEmpty() && !clean && counters.isEmpty() && !hasTotal) {
      return 0;
    }
    int exit = clean ? ExitCodes.OK : violations.isEmpty() ? -1 : ExitCodes.VIOLATIONS;
    JsonNode result = run(row, args(command), exit);
    if (clean || !violations.isEmpty()) {
      assertThat(violationCounts(result)).as("%s, %s", row, which).isEqualTo(violations);
    }
    assertCounters(row, which, result, counters);
    if (hasTotal) {
      assertThat(result.path("cycles").path("total").asLong())
          .as("%s, %s: total cycles", row, which)
          .isEqualTo(Long.parseLong(total.group(1).replace(",", "")));
    }
    return violations.size() + (clean ? 1 : 0) + counters.size() + (hasTotal ? 1 : 0);
  }

  /** Every {@code $ ./mmuemu run} block with output, in the README and docs/. */
  static Stream<Arguments> outputBlocks() throws IOException {
    List<Path> files = new ArrayList<>();
    files.add(REPO.resolve("README.md"));
    try (Stream<Path> docs = Files.list(REPO.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    List<Arguments> blocks = new ArrayList<>();
    for (Path file : files) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        if (!lines.get(i).startsWith("$ ./mmuemu run ")) {
          continue;
        }
        StringBuilder command = new StringBuilder(lines.get(i).substring(2));
        int at = i;
        while (command.toString().endsWith("\\")) {
          command.setLength(command.length() - 1);
          command.append(' ').append(lines.get(++at).trim());
        }
        List<String> shown = new ArrayList<>();
        for (int j = at + 1; j < lines.size() && !lines.get(j).startsWith("```"); j++) {
          shown.add(lines.get(j));
        }
        String where = REPO.relativize(file) + ":" + (i + 1);
        blocks.add(Arguments.of(where, command.toString(), shown));
      }
    }
    assertThat(blocks).as("output blocks in the README and docs/").isNotEmpty();
    return blocks.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("outputBlocks")
  void outputBlock_showsLinesTheRunPrints(String where, String command, List<String> shown) {
    CliTestSupport.Outcome outcome = CliTestSupport.run(args(command));
    assertThat(outcome.err()).as(where).doesNotContain("Exception");
    List<String> printed = outcome.out().lines().toList();
    for (String line : shown) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.equals("...") || trimmed.startsWith("host ")) {
        continue;
      }
      if (trimmed.endsWith(" ...")) {
        String prefix = line.substring(0, line.length() - " ...".length());
        assertThat(printed)
            .as("%s: a line starting %s", where, prefix)
            .anyMatch(p -> p.startsWith(prefix));
      } else {
        assertThat(printed).as(where).contains(line);
      }
    }
  }

  /**
   * A measured table with one run per row: the row's machine (the first word of its first cell)
   * runs {@code command}, in which {@code {machine}} is that machine and {@code {1}} the row's
   * second cell; every figure in the other cells must be one the run prints.
   */
  record MeasuredTable(String file, String header, String command, int firstFigureColumn) {
    @Override
    public String toString() {
      return file + " \"" + header + "\"";
    }
  }

  static Stream<Arguments> measuredTableRows() throws IOException {
    List<MeasuredTable> tables =
        List.of(
            new MeasuredTable(
                "README.md",
                "| machine | `flush_tlb_range` mean | p99 | `munmap` mean |",
                "run --machine {machine} --workload munmap-storm",
                1),
            new MeasuredTable(
                "README.md",
                "| machine | `fork` | `pageFault` |",
                "run --machine {machine} --workload fork-cow",
                1),
            new MeasuredTable(
                "README.md",
                "| machine | `numaScanFilter` | scans |",
                "run --machine {machine} --workload numa-scan --set /kernel/variants/numaScanFilter={1}",
                2),
            new MeasuredTable(
                "docs/x86.md",
                "| machine | flush_tlb_range mean / p50 / p99 (cycles) |",
                "run --machine {machine} --workload munmap-storm",
                1),
            new MeasuredTable(
                "docs/faults.md",
                "| machine | `fork` | `flush_tlb_mm` |",
                "run --machine {machine} --workload fork-cow",
                1),
            new MeasuredTable(
                "docs/faults.md",
                "| machine | `numaScanFilter` | scans | PTEs made PROT_NONE | scan flushes |",
                "run --machine {machine} --workload numa-scan --set /kernel/variants/numaScanFilter={1}",
                2),
            new MeasuredTable(
                "docs/faults.md",
                "| machine | variant | violations | entries made / restored / lost |",
                "run --machine {machine} --workload device-exclusive"
                    + " --set /kernel/variants/deviceExclusiveRef={1}",
                2));
    List<Arguments> rows = new ArrayList<>();
    for (MeasuredTable table : tables) {
      List<String> lines = Files.readAllLines(REPO.resolve(table.file()), StandardCharsets.UTF_8);
      int header = theLineStartingWith(lines, table.header(), table.file());
      int found = 0;
      for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
        String[] cells = cells(lines.get(i));
        String machine = cells[0].replace("`", "").split(" ")[0];
        String command =
            "./mmuemu "
                + table
                    .command()
                    .replace("{machine}", machine)
                    .replace("{1}", cells[1].replace("`", ""));
        List<String> figures = List.of(cells).subList(table.firstFigureColumn(), cells.length);
        rows.add(Arguments.of(table.file() + ":" + (i + 1), command, figures));
        found++;
      }
      assertThat(found).as("%s has rows", table).isPositive();
    }
    return rows.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("measuredTableRows")
  void measuredTableRow_showsFiguresTheRunPrints(String where, String command, List<String> cells)
      throws IOException {
    Set<String> printed = printedFigures(args(command));
    for (String cell : cells) {
      Matcher figure = FIGURE.matcher(cell);
      while (figure.find()) {
        assertThat(printed)
            .as(
                "%s: %s in \"%s\" is not a figure `%s` prints",
                where, figure.group(), cell, command)
            .contains(figure.group());
      }
    }
  }

  /** The README's latency table: one row per workload, one column per machine. */
  static Stream<Arguments> workloadTableCells() throws IOException {
    List<String> lines = Files.readAllLines(REPO.resolve("README.md"), StandardCharsets.UTF_8);
    int at = theLineStartingWith(lines, "| workload | what it does | operation |", "README.md");
    String[] machines = cells(lines.get(at));
    List<Arguments> out = new ArrayList<>();
    for (int i = at + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
      String[] cells = cells(lines.get(i));
      String workload = cells[0].replace("`", "");
      String operation = cells[2].replace("`", "");
      for (int column = 3; column < cells.length; column++) {
        out.add(
            Arguments.of(
                "README.md:" + (i + 1) + " " + machines[column],
                "./mmuemu run --machine " + machines[column] + " --workload " + workload,
                operation,
                cells[column]));
      }
    }
    assertThat(out).hasSizeGreaterThan(4);
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("workloadTableCells")
  void workloadTableCell_isTheMeanTheRunPrints(
      String where, String command, String operation, String mean) throws IOException {
    JsonNode latency = run(where, args(command), ExitCodes.OK).path("latency").path(operation);
    assertThat(latency.isMissingNode()).as("%s: the run times %s", where, operation).isFalse();
    assertThat(String.format(Locale.ROOT, "%.1f", latency.path("mean").asDouble()))
        .as(where)
        .isEqualTo(mean);
  }

  @Test
  void counterTokens_areReadAsTheTableWritesThem() {
    assertThat(counters("`mkcleanPtes` 28, `pagesReclaimed` 123; `vmapBusyLockContended` 990,238"))
        .containsExactly(
            Map.entry("mkcleanPtes", 28L),
            Map.entry("pagesReclaimed", 123L),
            Map.entry("vmapBusyLockContended", 990_238L));
    assertThat(violations("`STALE_TLB_USE=434` and `BREAK_BEFORE_MAKE=70`, exit 1"))
        .containsExactly(Map.entry("STALE_TLB_USE", 434L), Map.entry("BREAK_BEFORE_MAKE", 70L));
    assertThat(
            withoutLastVariant("./mmuemu run --machine m --set /kernel/variants/a=b --param x=1"))
        .isEqualTo("./mmuemu run --machine m --param x=1");
  }

  /** Runs {@code args} with {@code --json}: nothing on stderr, the exit code (unless -1). */
  private static JsonNode run(Object where, String[] args, int expectedExit) throws IOException {
    CliTestSupport.Outcome outcome = CliTestSupport.run(withJson(args));
    assertThat(outcome.err()).as("%s: %s", where, String.join(" ", args)).isEmpty();
    if (expectedExit >= 0) {
      assertThat(outcome.exitCode())
          .as("%s: %s", where, String.join(" ", args))
          .isEqualTo(expectedExit);
    }
    return JSON.readTree(outcome.out());
  }

  /**
   * The index of the one line of {@code lines} (of {@code file}) that starts with {@code start}.
   */
  private static int theLineStartingWith(List<String> lines, String start, String file) {
    int found = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(start)) {
        assertThat(found).as("%s: one line starting %s", file, start).isNegative();
        found = i;
      }
    }
    assertThat(found).as("%s: a line starting %s", file, start).isNotNegative();
    return found;
  }

  private static void assertCounters(
      Row row, String which, JsonNode result, Map<String, Long> counters) {
    for (Map.Entry<String, Long> counter : counters.entrySet()) {
      JsonNode value = result.path("kernel").path(counter.getKey());
      long actual = value.isMissingNode() ? 0 : value.asLong();
      assertThat(actual)
          .as("%s, %s: `%s`", row, which, counter.getKey())
          .isEqualTo(counter.getValue());
    }
  }

  private static Map<String, Long> violationCounts(JsonNode result) {
    Map<String, Long> counts = new LinkedHashMap<>();
    result
        .path("violationCounts")
        .fields()
        .forEachRemaining(e -> counts.put(e.getKey(), e.getValue().asLong()));
    return counts;
  }

  static Map<String, Long> violations(String cell) {
    Map<String, Long> counts = new LinkedHashMap<>();
    Matcher m = VIOLATION.matcher(cell);
    while (m.find()) {
      counts.put(m.group(1), Long.parseLong(m.group(2)));
    }
    return counts;
  }

  static Map<String, Long> counters(String cell) {
    Map<String, Long> counts = new LinkedHashMap<>();
    Matcher m = COUNTER.matcher(cell);
    while (m.find()) {
      counts.put(m.group(1), Long.parseLong(m.group(2).replace(",", "")));
    }
    return counts;
  }

  static String withoutLastVariant(String command) {
    Matcher m = VARIANT_SET.matcher(command);
    int start = -1;
    int end = -1;
    while (m.find()) {
      start = m.start();
      end = m.end();
    }
    assertThat(start).as("a --set /kernel/variants/ in %s", command).isNotNegative();
    return (command.substring(0, start) + command.substring(end)).replaceAll("\\s+", " ").strip();
  }

  private static final Pattern FIGURE =
      Pattern.compile(
          "(?<![\\w.,])\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?(?![\\w])|(?<![\\w.,])\\d+(?:\\.\\d+)?(?![\\w])");

  private static String[] cells(String row) {
    String inner = row.strip();
    inner = inner.substring(1, inner.length() - 1);
    String[] cells = inner.split("\\|");
    for (int i = 0; i < cells.length; i++) {
      cells[i] = cells[i].strip();
    }
    return cells;
  }

  private static String[] withJson(String[] args) {
    String[] withJson = Arrays.copyOf(args, args.length + 2);
    withJson[args.length] = "--json";
    withJson[args.length + 1] = "--quiet";
    return withJson;
  }

  /**
   * Every figure a run shows: the numbers of its summary as printed, and every number of its result
   * as an integer (with and without thousands separators) or rounded to one decimal or to a whole
   * number (with and without), the forms the docs write them in.
   */
  private static Set<String> printedFigures(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("documented-figures");
    Path result = dir.resolve("result.json");
    try {
      String[] withOut = Arrays.copyOf(args, args.length + 2);
      withOut[args.length] = "--out";
      withOut[args.length + 1] = result.toString();
      CliTestSupport.Outcome summary = CliTestSupport.run(withOut);
      assertThat(summary.err()).as(String.join(" ", args)).isEmpty();
      Set<String> figures = new HashSet<>();
      Matcher m = FIGURE.matcher(summary.out());
      while (m.find()) {
        figures.add(m.group());
      }
      addFigures(JSON.readTree(result.toFile()), figures);
      return figures;
    } finally {
      Files.deleteIfExists(result);
      Files.deleteIfExists(dir);
    }
  }

  private static void addFigures(JsonNode node, Set<String> figures) {
    if (node.isContainerNode()) {
      node.forEach(child -> addFigures(child, figures));
    } else if (node.isIntegralNumber()) {
      figures.add(Long.toString(node.asLong()));
      figures.add(String.format(Locale.ROOT, "%,d", node.asLong()));
    } else if (node.isNumber()) {
      double value = node.asDouble();
      for (String format : List.of("%.1f", "%,.1f", "%.0f", "%,.0f")) {
        figures.add(String.format(Locale.ROOT, format, value));
      }
    }
  }

  private static String[] args(String command) {
    assertThat(command).startsWith("./mmuemu ");
    return command.substring("./mmuemu ".length()).trim().split("\\s+");
  }
}
