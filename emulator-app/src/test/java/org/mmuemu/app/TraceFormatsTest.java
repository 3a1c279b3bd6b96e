package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.app.trace.ChromeTraceWriter;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.NameTable;

/**
 * {@code --trace} in both formats: golden files for a tiny deterministic run, the Chrome form's
 * slices, flows and counters from synthetic events (kernel.call as kernel-mm will publish it), a
 * valid file after a run that stopped with an error, and one trace per compare column.
 */
final class TraceFormatsTest {
  private static final String[] TINY = {
    "--machine",
    "x86-skylake",
    "--workload",
    "munmap-storm",
    "--param",
    "iterations=1",
    "--param",
    "threads=2",
    "--set",
    "/cores=2",
    "-q"
  };

  @TempDir Path dir;

  private CliTestSupport.Outcome runWithTrace(Path trace, String format) {
    String[] args =
        java.util.stream.Stream.concat(
                java.util.stream.Stream.of("run"),
                java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(TINY),
                    java.util.stream.Stream.of(
                        "--trace", trace.toString(), "--trace-format", format)))
            .toArray(String[]::new);
    return CliTestSupport.run(args);
  }

  @Test
  void chromeTrace_tinyRun_matchesGoldenFileAndIsValid() throws Exception {
    Path trace = dir.resolve("tiny.json");
    CliTestSupport.Outcome outcome = runWithTrace(trace, "chrome");
    assertThat(outcome.err()).isEmpty();
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    List<JsonNode> events = ChromeTraceValidator.assertValid(trace);
    assertThat(events).anySatisfy(e -> assertThat(e.get("ph").asText()).isEqualTo("s"));
    assertThat(events).anySatisfy(e -> assertThat(e.get("name").asText()).isEqualTo("walk"));
    assertThat(events)
        .anySatisfy(e -> assertThat(e.get("name").asText()).isEqualTo("tlb occupancy core 1"));
    Golden.assertMatches(Files.readString(trace), "trace-tiny.chrome.json");
  }

  @Test
  void jsonLinesTrace_tinyRun_matchesGoldenFile() throws Exception {
    Path trace = dir.resolve("tiny.jsonl");
    assertThat(runWithTrace(trace, "jsonl").exitCode()).isEqualTo(ExitCodes.OK);
    Golden.assertMatches(Files.readString(trace), "trace-tiny.jsonl");
  }

  @Test
  void chromeTrace_runStoppedByAnError_isStillCompleteAndValid() throws Exception {
    Path trace = dir.resolve("oom.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "x86-skylake",
            "--workload",
            "stream",
            "--param",
            "threads=1",
            "--set",
            "/cores=1",
            "--set",
            "/memoryBytes=1MiB",
            "--trace",
            trace.toString(),
            "--trace-format",
            "chrome",
            "-q");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err()).contains("memory exhausted");
    assertThat(ChromeTraceValidator.assertValid(trace)).hasSizeGreaterThan(10);
  }

  @Test
  void compare_chromeTrace_writesOneValidFilePerColumnNamedByLabel() throws Exception {
    Path trace = dir.resolve("cmp.json");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "compare",
            "--machine",
            "x86-skylake",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "munmap-storm",
            "--param",
            "iterations=1",
            "--param",
            "threads=2",
            "--set",
            "/cores=2",
            "--trace",
            trace.toString(),
            "--trace-format",
            "chrome",
            "-q");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);
    List<JsonNode> x86 = ChromeTraceValidator.assertValid(dir.resolve("cmp.x86-skylake.json"));
    List<JsonNode> arm =
        ChromeTraceValidator.assertValid(dir.resolve("cmp.arm64-neoverse-n1.json"));
    assertThat(x86.get(0).get("args").get("name").asText()).isEqualTo("x86-skylake");
    assertThat(arm.get(0).get("pid").asInt()).isEqualTo(2);
    assertThat(arm).anySatisfy(e -> assertThat(e.get("name").asText()).isEqualTo("TLBI VALE1IS"));
  }

  @Test
  void chromeWriter_kernelCallsNestAndOpenOnesCloseAtTheEnd() throws Exception {
    StringWriter out = new StringWriter();
    Map<Integer, String> operations = Map.of(7, "vmalloc", 8, "flush_tlb_kernel_range");
    ChromeTraceWriter writer =
        new ChromeTraceWriter(out, 3, "m", 2.0, -1L, List.of("l1d", "l2"), operations::get, 1000);
    int dsb = NameTable.INSTRUCTIONS.idOf("DSB ISH");
    writer.onEvent(EventKind.KERNEL_CALL, 0, 100, 0, 0xffff000000001000L, 7);
    writer.onEvent(EventKind.WALK, 0, 160, 0x1000, 0x2000, 40);
    writer.onEvent(EventKind.KERNEL_CALL, 0, 200, 0, 0, 8);
    writer.onEvent(EventKind.IPI_SEND, 0, 210, 1, 0, 0);
    writer.onEvent(EventKind.IPI_RECEIVE, 1, 260, 0, 0, 0);
    writer.onEvent(EventKind.BARRIER, 0, 300, 0, 0, dsb);
    writer.onEvent(EventKind.KERNEL_CALL, 0, 320, 1, 0, 8);
    writer.onEvent(EventKind.TLB_MISS, 1, 1500, 0x3000, 0, 1);
    writer.onEvent(EventKind.KERNEL_CALL, 1, 1600, 0, 0, 99);
    writer.finish();
    Path file = dir.resolve("synthetic.json");
    Files.writeString(file, out.toString());
    List<JsonNode> events = ChromeTraceValidator.assertValid(file);
    assertThat(events)
        .extracting(
            e ->
                e.get("ph").asText()
                    + " "
                    + e.get("name").asText()
                    + " "
                    + e.path("tid").asInt()
                    + " "
                    + e.path("ts").asText(""))
        .contains(
            "B vmalloc 0 0.05",
            "X walk 0 0.06",
            "B flush_tlb_kernel_range 0 0.1",
            "X ipi.send 0 0.105",
            "s ipi 0 0.105",
            "X ipi.receive 1 0.13",
            "f ipi 1 0.13",
            "i DSB ISH 0 0.15",
            "E flush_tlb_kernel_range 0 0.16",
            "B kernel op 99 1 0.8",
            "E kernel op 99 1 0.8",
            "E vmalloc 0 0.16");
    JsonNode misses =
        events.stream()
            .filter(
                e ->
                    e.get("name").asText().equals("tlb misses core 1")
                        && e.get("ts").asDouble() == 0.75)
            .findFirst()
            .orElseThrow();
    assertThat(misses.get("args").get("l2").asInt()).isEqualTo(1);
  }

  /**
   * A run stopped while an IPI was on its way: the arrow from its send still ends (on the target,
   * at the later of the send and the target's last time), so the file stays valid.
   */
  @Test
  void chromeWriter_anIpiPendingWhenTheRunStops_endsItsArrowOnTheTarget() throws Exception {
    StringWriter out = new StringWriter();
    ChromeTraceWriter writer =
        new ChromeTraceWriter(out, 3, "m", 2.0, -1L, List.of("l1d"), id -> "op", 1000);
    writer.onEvent(EventKind.TLB_MISS, 1, 100, 0x3000, 0, 0);
    writer.onEvent(EventKind.IPI_SEND, 0, 400, 1, 0, 0);
    writer.finishStopped("run interrupted", 500, null);
    Path file = dir.resolve("stopped.json");
    Files.writeString(file, out.toString());

    List<JsonNode> events = ChromeTraceValidator.assertValid(file);

    assertThat(events)
        .extracting(e -> e.get("ph").asText() + " " + e.path("tid").asInt() + " " + e.get("ts"))
        .contains("s 0 0.2", "f 1 0.2");
  }

  /**
   * Two IPIs to one target still on their way when the run stops, the later-sent one published
   * first (its initiator ran ahead): the second arrow must not end before the first on the target's
   * track.
   */
  @Test
  void chromeWriter_twoIpisPendingToOneTarget_endInTimeOrderOnItsTrack() throws Exception {
    StringWriter out = new StringWriter();
    ChromeTraceWriter writer =
        new ChromeTraceWriter(out, 3, "m", 2.0, -1L, List.of("l1d"), id -> "op", 1000);
    writer.onEvent(EventKind.TLB_MISS, 2, 100, 0x3000, 0, 0);
    writer.onEvent(EventKind.IPI_SEND, 0, 600, 2, 0, 0);
    writer.onEvent(EventKind.IPI_SEND, 1, 400, 2, 0, 0);
    writer.finishStopped("run interrupted", 700, null);
    Path file = dir.resolve("two-pending.json");
    Files.writeString(file, out.toString());

    List<JsonNode> events = ChromeTraceValidator.assertValid(file); // ts never goes back

    assertThat(events)
        .filteredOn(e -> e.get("ph").asText().equals("f"))
        .extracting(e -> e.path("tid").asInt() + " " + e.get("ts"))
        .containsExactly("2 0.3", "2 0.3");
  }
}
