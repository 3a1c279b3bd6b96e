package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of control messages on a real server: random requests, mangled JSON, wrong types,
 * control characters and oversized lines. Every line must be answered with a JSON message of a
 * known type (never an internal error), the server must stay usable, give every run slot back and
 * keep its heap bounded. Runs a fixed number of cases within a few seconds; a failure names its
 * seed and case.
 */
final class ControlPortFuzzTest {
  private static final long SEED = 7_878L;
  private static final Set<String> TYPES =
      Set.of(
          "hello",
          "list",
          "accepted",
          "event",
          "progress",
          "result",
          "error",
          "cancelled",
          "status");
  private static final String[] OPS = {"hello", "list", "run", "cancel", "status", "launch", ""};
  private static final String[] FIELDS = {
    "machine",
    "workload",
    "params",
    "set",
    "seed",
    "events",
    "sample",
    "onSlowClient",
    "token",
    "run"
  };
  private ControlServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void randomMessages_areAnsweredWithKnownMessages_andLeaveTheServerUsable() throws Exception {
    server =
        new ControlServer(
            ServerSettings.defaults()
                .withPort(0)
                .withMaxLineBytes(4096)
                .withProgressInterval(Duration.ofMillis(50)));
    int port = server.start();
    SplittableRandom random = new SplittableRandom(SEED);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
    int cases = 0;
    try (LineClient client = new LineClient(port)) {
      for (int i = 0; i < 300 && System.nanoTime() < deadline; i++, cases++) {
        String message = message(random);
        client.send(message.replace("\n", " "));
        // A status after each message: everything before it has been answered once it arrives.
        client.send("{\"id\":\"probe-" + i + "\",\"op\":\"status\"}");
        while (true) {
          String line = client.readLine();
          assertThat(line).as("seed %d case %d: %s", SEED, i, message).isNotNull();
          JsonNode reply = Messages.MAPPER.readTree(line);
          assertThat(reply.path("type").asText())
              .as("case %d: %s -> %s", i, message, line)
              .isIn(TYPES);
          assertThat(reply.path("code").asText())
              .as("case %d: %s -> %s", i, message, line)
              .isNotEqualTo(Messages.INTERNAL);
          if (reply.path("type").asText().equals("status")
              && reply.path("id").asText().equals("probe-" + i)) {
            break;
          }
        }
      }
    }
    assertThat(cases).isGreaterThan(20);
    long deadlineIdle = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (server.runsInFlight() > 0 && System.nanoTime() < deadlineIdle) {
      Thread.sleep(20);
    }
    assertThat(server.runsInFlight()).isZero();
    assertThat(server.context().runSlots().availablePermits())
        .isEqualTo(server.context().settings().maxRuns());
    assertThat(server.context().memory().reservedBytes()).isZero();
    System.gc();
    Runtime runtime = Runtime.getRuntime();
    assertThat(runtime.totalMemory() - runtime.freeMemory()).isLessThan(768L << 20);
  }

  private static String message(SplittableRandom random) {
    return switch (random.nextInt(6)) {
      case 0 -> garbage(random);
      case 1 -> "x".repeat(4000 + random.nextInt(2000));
      default -> request(random);
    };
  }

  private static String request(SplittableRandom random) {
    StringBuilder json = new StringBuilder("{");
    if (random.nextInt(6) != 0) {
      json.append("\"id\":")
          .append(random.nextInt(4) == 0 ? value(random) : Integer.toString(random.nextInt(1000)))
          .append(',');
    }
    json.append("\"op\":\"").append(OPS[random.nextInt(OPS.length)]).append('"');
    for (int f = random.nextInt(5); f > 0; f--) {
      String field = FIELDS[random.nextInt(FIELDS.length)];
      json.append(",\"").append(field).append("\":").append(fieldValue(random, field));
    }
    String text = json.append('}').toString();
    return random.nextInt(10) == 0 ? text.substring(0, random.nextInt(text.length())) : text;
  }

  private static String fieldValue(SplittableRandom random, String field) {
    if (random.nextInt(3) == 0) {
      return value(random);
    }
    return switch (field) {
      case "machine" ->
          random.nextBoolean()
              ? "\"arm64-neoverse-n1\""
              : "{\"name\":\"m\",\"extends\":\"x86-skylake\","
                  + "\"memoryBytes\":\""
                  + (1 << random.nextInt(12))
                  + "GiB\"}";
      case "workload" -> random.nextBoolean() ? "\"stream\"" : "\"munmap-storm\"";
      case "params" ->
          "{\"accesses\":"
              + random.nextInt(-2, 300)
              + ",\"threads\":"
              + random.nextInt(-1, 3)
              + "}";
      case "set" ->
          "[\"/cores="
              + random.nextInt(-1, 9)
              + "\",\"/memoryBytes="
              + random.nextInt(9)
              + "TiB\"]";
      case "events" -> "[\"tlb.miss\",\"" + (random.nextBoolean() ? "walk" : "nope") + "\"]";
      case "sample" -> Integer.toString(random.nextInt(-1, 100));
      case "onSlowClient" -> random.nextBoolean() ? "\"drop\"" : "\"pause\"";
      default -> Integer.toString(random.nextInt(1000));
    };
  }

  private static String value(SplittableRandom random) {
    return switch (random.nextInt(6)) {
      case 0 -> Long.toString(random.nextLong());
      case 1 -> "\"\\u001b[31m" + random.nextInt() + "\"";
      case 2 -> "[1,[2,[3]]]";
      case 3 -> "{\"a\":{\"b\":null}}";
      case 4 -> "1e400";
      default -> "null";
    };
  }

  private static String garbage(SplittableRandom random) {
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(60); i > 0; i--) {
      char c = (char) random.nextInt(1, 0x80);
      text.append(c == '\n' || c == '\r' ? ' ' : c);
    }
    return text.toString();
  }
}
