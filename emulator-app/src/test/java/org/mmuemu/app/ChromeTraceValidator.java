package org.mmuemu.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a Chrome trace-event file is well-formed as Perfetto reads it: known phases with
 * their required fields, timestamps that never go back on a track, B/E pairs that match, slices
 * that nest (no partial overlap with the enclosing slice), and flow arrows whose start and end both
 * exist, end no earlier than they start. Every test that writes a Chrome trace passes it through
 * here.
 */
final class ChromeTraceValidator {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> PHASES = Set.of("M", "B", "E", "X", "i", "C", "s", "f");

  private ChromeTraceValidator() {}

  /** Validates the file and returns its events. */
  static List<JsonNode> assertValid(Path file) throws IOException {
    JsonNode root = JSON.readTree(file.toFile());
    assertThat(root.has("traceEvents")).as("%s has traceEvents", file).isTrue();
    List<JsonNode> events = new java.util.ArrayList<>();
    root.get("traceEvents").forEach(events::add);
    Map<String, Double> lastTs = new HashMap<>();
    Map<String, ArrayDeque<double[]>> open = new HashMap<>();
    Map<Long, Double> flowStarts = new HashMap<>();
    Set<Long> flowEnds = new HashSet<>();
    for (int i = 0; i < events.size(); i++) {
      JsonNode event = events.get(i);
      String where = file.getFileName() + " event " + i + " " + event;
      String phase = event.path("ph").asText();
      assertThat(PHASES).as(where).contains(phase);
      assertThat(event.has("pid") && event.get("pid").isInt()).as(where + ": pid").isTrue();
      assertThat(event.has("tid") && event.get("tid").isInt()).as(where + ": tid").isTrue();
      assertThat(event.path("name").isTextual()).as(where + ": name").isTrue();
      if (phase.equals("M")) {
        assertThat(event.path("args").isObject()).as(where + ": args").isTrue();
        continue;
      }
      assertThat(event.path("ts").isNumber()).as(where + ": ts").isTrue();
      double ts = event.get("ts").asDouble();
      String track = event.get("pid").asInt() + "/" + event.get("tid").asInt();
      if (phase.equals("C")) {
        track = track + "/" + event.get("name").asText();
        assertThat(event.path("args").isObject()).as(where + ": counter args").isTrue();
        event
            .get("args")
            .forEach(value -> assertThat(value.isNumber()).as(where + ": counter value").isTrue());
      }
      assertThat(ts)
          .as(where + ": ts goes back on its track")
          .isGreaterThanOrEqualTo(lastTs.getOrDefault(track, 0.0));
      lastTs.put(track, ts);
      ArrayDeque<double[]> stack = open.computeIfAbsent(track, k -> new ArrayDeque<>());
      // X slices that ended by now no longer enclose anything (B slices stay until their E).
      while (!stack.isEmpty()
          && stack.peek()[1] != Double.POSITIVE_INFINITY
          && stack.peek()[1] <= ts) {
        stack.pop();
      }
      switch (phase) {
        case "B" -> stack.push(new double[] {ts, Double.POSITIVE_INFINITY});
        case "E" -> {
          assertThat(stack).as(where + ": E without B").isNotEmpty();
          assertThat(stack.peek()[1])
              .as(where + ": E inside a slice that is still open (partial overlap)")
              .isEqualTo(Double.POSITIVE_INFINITY);
          stack.pop();
        }
        case "X" -> {
          assertThat(event.path("dur").isNumber()).as(where + ": dur").isTrue();
          double end = ts + event.get("dur").asDouble();
          if (!stack.isEmpty()) {
            assertThat(end)
                .as(where + ": X overlaps the end of its enclosing slice")
                .isLessThanOrEqualTo(stack.peek()[1] + 1e-9);
          }
          stack.push(new double[] {ts, end});
        }
        case "i" ->
            assertThat(event.path("s").asText()).as(where + ": instant scope").isIn("t", "p", "g");
        case "s" -> {
          assertThat(event.path("id").isNumber()).as(where + ": flow id").isTrue();
          assertThat(flowStarts.put(event.get("id").asLong(), ts))
              .as(where + ": flow id reused")
              .isNull();
        }
        case "f" -> {
          long id = event.path("id").asLong();
          assertThat(flowStarts).as(where + ": flow end without start").containsKey(id);
          assertThat(ts)
              .as(where + ": flow ends before it starts")
              .isGreaterThanOrEqualTo(flowStarts.get(id));
          assertThat(flowEnds.add(id)).as(where + ": flow ended twice").isTrue();
        }
        default -> {
          // C checked above.
        }
      }
    }
    open.forEach(
        (track, stack) ->
            assertThat(stack.stream().filter(s -> s[1] == Double.POSITIVE_INFINITY))
                .as(file.getFileName() + ": B without E on " + track)
                .isEmpty());
    assertThat(flowEnds)
        .as(file.getFileName() + ": every flow ends")
        .isEqualTo(flowStarts.keySet());
    return events;
  }
}
