package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.runner.ExitCodes;

/**
 * {@code kernel.call} events in a {@code mmuemu run --trace} output: every kernel operation shows
 * as a begin and an end, named, properly nested per core.
 */
final class KernelCallTraceCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void runTrace_showsEveryKernelOperation_asNestedBeginEndPairs(@TempDir Path dir)
      throws Exception {
    Path trace = dir.resolve("trace.jsonl");
    CliTestSupport.Outcome outcome =
        CliTestSupport.run(
            "run",
            "--machine",
            "x86-skylake",
            "--workload",
            "munmap-storm",
            "--quiet",
            "--param",
            "iterations=3",
            "--param",
            "threads=2",
            "--trace",
            trace.toString(),
            "--trace-events",
            "kernel.call");
    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.OK);

    List<String> lines = Files.readAllLines(trace);
    Map<Integer, Deque<String>> open = new HashMap<>();
    Map<String, Integer> ends = new TreeMap<>();
    for (String line : lines) {
      JsonNode event = JSON.readTree(line);
      assertThat(event.path("kind").asText()).isEqualTo("kernel.call");
      String operation = event.path("operation").asText();
      Deque<String> stack =
          open.computeIfAbsent(event.path("core").asInt(), core -> new ArrayDeque<>());
      if (event.path("phase").asText().equals("begin")) {
        stack.push(operation);
      } else {
        assertThat(event.path("phase").asText()).isEqualTo("end");
        assertThat(stack.pop()).as("end of the innermost open call: " + line).isEqualTo(operation);
        ends.merge(operation, 1, Integer::sum);
      }
    }
    assertThat(open.values()).allSatisfy(stack -> assertThat(stack).isEmpty());
    // two threads map, touch and unmap three times each; each munmap flushes inside its call
    assertThat(ends)
        .containsEntry("munmap", 6)
        .containsEntry("flush_tlb_range", 6)
        .containsKey("pageFault")
        .containsKey("mmap");
    assertThat(lines.get(0)).contains("\"phase\":\"begin\"").contains("\"operation\":\"");
  }
}
