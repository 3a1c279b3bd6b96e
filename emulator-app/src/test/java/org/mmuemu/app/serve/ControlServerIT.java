package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.MachineConfigLoader;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.workload.registry.Workloads;

/**
 * The control server on real loopback sockets: concurrent clients, the run limit, slow readers in
 * pause mode (nothing lost) and drop mode (drops reported), an abrupt disconnect mid-run (run
 * cancelled, no thread, slot or queue left behind), tokens, half-closing clients, /metrics parsed
 * as Prometheus text, and a WebSocket client. Each test starts its own server on a free port and
 * runs small workloads, so the class takes seconds.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class ControlServerIT {
  private static final String MACHINE = "arm64-neoverse-n1";
  private ControlServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private int start(ServerSettings settings) throws InterruptedException {
    server = new ControlServer(settings.withPort(0).withProgressInterval(Duration.ofMillis(50)));
    return server.start();
  }

  /**
   * The receive buffer of a client that stops reading and later reads a whole run's events. Not
   * smaller: with a 4 KiB receive buffer Linux's loopback TCP sits in zero-window probing (the
   * sender's persist timer) once the reader falls behind, and a 2 MB event stream crawls at about
   * 10 KB/s (measured: rwnd-limited 100 % of 233 s), which timed these tests out on a busy host.
   * The server's 4 KiB send buffer and the 64-event queue still make the run pause.
   */
  private static final int READER_RECEIVE_BUFFER_BYTES = 64 << 10;

  private static String runRequest(int id, String params, String extra) {
    return "{\"id\":"
        + id
        + ",\"op\":\"run\",\"machine\":\""
        + MACHINE
        + "\",\"workload\":\"stream\",\"params\":{"
        + params
        + "}"
        + extra
        + "}";
  }

  /** The events and result of the same run on this thread, with no server. */
  private static RunResult localRun(
      Map<String, String> params, long seed, long mask, AtomicLong events) throws Exception {
    IsaRegistry registry = IsaRegistry.load();
    LoadedMachine loaded = new MachineConfigLoader(registry).load(MACHINE);
    TraceSink counter =
        new TraceSink() {
          @Override
          public long kindMask() {
            return mask;
          }

          @Override
          public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
            events.incrementAndGet();
          }
        };
    return SimulationRunner.run(
        registry, loaded, Workloads.get("stream"), params, seed, List.of(counter), () -> false);
  }

  private static String withoutHost(String resultJson) {
    return ResultJson.toJson(ResultJson.fromJson(resultJson).withHost(null));
  }

  private static void awaitTrue(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void twoClients_runAtOnce_eachGetsItsOwnDeterministicResult() throws Exception {
    int port =
        start(
            ServerSettings.defaults().withMaxRuns(2).withQueueEvents(64).withSendBufferBytes(4096));
    try (LineClient a = new LineClient(port, READER_RECEIVE_BUFFER_BYTES);
        LineClient b = new LineClient(port)) {
      // A's run streams every event and A reads nothing yet: the run stays in flight, paused.
      // Two threads each: the runs still interleave kernel calls, with few host-thread hand-overs
      // (on Java 17 each is a platform-thread wake-up, slow on a busy host).
      a.send(runRequest(1, "\"accesses\":1000,\"threads\":2", ",\"seed\":11,\"events\":\"all\""));
      awaitTrue(
          () -> server.metricsText().matches("(?s).*\nmmuemu_run_pauses_total [1-9].*"),
          "A's run to pause");

      b.send(
          runRequest(1, "\"accesses\":3000,\"threads\":2", ",\"seed\":22,\"events\":[\"fault\"]"));
      assertThat(b.read().get("type").asText()).isEqualTo("accepted");
      assertThat(server.runsInFlight()).as("A's run and B's run at once").isEqualTo(2);
      LineClient.RunOutput outB = b.readRun(1);
      assertThat(server.runsInFlight()).as("A's run still waits for A").isEqualTo(1);
      LineClient.RunOutput outA = a.readRun(1);

      AtomicLong eventsA = new AtomicLong();
      RunResult expectedA = localRun(Map.of("accesses", "1000", "threads", "2"), 11, -1L, eventsA);
      AtomicLong eventsB = new AtomicLong();
      RunResult expectedB =
          localRun(Map.of("accesses", "3000", "threads", "2"), 22, EventKind.FAULT.bit(), eventsB);
      assertThat(withoutHost(Messages.text(outA.end().get("result"))))
          .isEqualTo(ResultJson.toJson(expectedA.withHost(null)));
      assertThat(withoutHost(Messages.text(outB.end().get("result"))))
          .isEqualTo(ResultJson.toJson(expectedB.withHost(null)));
      assertThat(outA.events()).hasSize((int) eventsA.get());
      assertThat(outA.end().get("dropped").asLong()).isZero();
      assertThat(outB.events())
          .hasSize((int) eventsB.get())
          .allMatch(e -> e.contains("\"kind\":\"fault\""));
    }
    awaitTrue(() -> server.runsInFlight() == 0, "runs to end");
  }

  @Test
  void runBeyondMaxRuns_refusedBusy_whileTheFirstRuns_thenCancelEndsIt() throws Exception {
    int port = start(ServerSettings.defaults().withMaxRuns(1));
    try (LineClient a = new LineClient(port);
        LineClient b = new LineClient(port)) {
      a.send(runRequest(1, "\"accesses\":100000000", ""));
      assertThat(a.read().get("type").asText()).isEqualTo("accepted");

      b.send(runRequest(7, "\"accesses\":100", ""));
      JsonNode refused = b.read();
      assertThat(refused.get("id").asInt()).isEqualTo(7);
      assertThat(refused.get("code").asText()).isEqualTo(Messages.BUSY);

      JsonNode progress = a.read();
      while (!progress.get("type").asText().equals("progress")) {
        progress = a.read();
      }
      assertThat(progress.get("id").asInt()).isEqualTo(1);
      assertThat(progress.get("events").asLong()).isZero();
      assertThat(progress.get("wallSeconds").decimalValue()).isPositive();

      a.send("{\"id\":2,\"op\":\"cancel\",\"run\":1}");
      // The acknowledgement (id 2, from the event loop) and the run's end (id 1, from its run
      // thread) may arrive in either order.
      JsonNode acknowledgement = null;
      JsonNode end = null;
      while (acknowledgement == null || end == null) {
        JsonNode message = a.read();
        String type = message.get("type").asText();
        if (message.get("id").asInt() == 2) {
          acknowledgement = message;
        } else if (type.equals("error") || type.equals("result")) {
          end = message;
        }
      }
      assertThat(acknowledgement.get("type").asText()).isEqualTo("cancelled");
      assertThat(end.get("id").asInt()).isEqualTo(1);
      assertThat(end.get("code").asText()).isEqualTo(Messages.CANCELLED);

      b.send(runRequest(8, "\"accesses\":100", ""));
      assertThat(b.read().get("type").asText()).as("the slot is free again").isEqualTo("accepted");
      assertThat(b.readRun(8).end().get("type").asText()).isEqualTo("result");
    }
  }

  @Test
  void slowReader_pauseMode_losesNothing() throws Exception {
    int port = start(ServerSettings.defaults().withQueueEvents(64).withSendBufferBytes(4096));
    AtomicLong expected = new AtomicLong();
    localRun(Map.of("accesses", "1000"), 1, -1L, expected);
    try (LineClient client = new LineClient(port, READER_RECEIVE_BUFFER_BYTES)) {
      client.send(runRequest(1, "\"accesses\":1000", ",\"events\":\"all\""));
      // Read nothing for a while: the socket buffers and the 64-event queue fill, the run waits.
      awaitTrue(
          () -> server.metricsText().matches("(?s).*\nmmuemu_run_pauses_total [1-9].*"),
          "the run to pause");

      LineClient.RunOutput out = client.readRun(1);

      assertThat(out.end().get("type").asText()).isEqualTo("result");
      assertThat(out.end().get("dropped").asLong()).isZero();
      assertThat(out.events()).hasSize((int) expected.get());
      assertThat(out.end().get("events").asLong()).isEqualTo(expected.get());
    }
  }

  @Test
  void slowReader_dropMode_reportsWhatItDropped() throws Exception {
    int port = start(ServerSettings.defaults().withQueueEvents(64).withSendBufferBytes(4096));
    AtomicLong expected = new AtomicLong();
    localRun(Map.of("accesses", "1000"), 1, -1L, expected);
    try (LineClient client = new LineClient(port, READER_RECEIVE_BUFFER_BYTES)) {
      client.send(
          runRequest(1, "\"accesses\":1000", ",\"events\":[\"all\"],\"onSlowClient\":\"drop\""));
      // Read nothing until the run has finished: everything past the buffers is dropped.
      awaitTrue(() -> server.runsInFlight() == 0, "the run to finish");

      LineClient.RunOutput out = client.readRun(1);

      long dropped = out.end().get("dropped").asLong();
      assertThat(out.end().get("type").asText()).isEqualTo("result");
      assertThat(dropped).isPositive();
      assertThat(out.events().size() + dropped).isEqualTo(expected.get());
      assertThat(out.end().get("events").asLong()).isEqualTo(out.events().size());
      assertThat(server.metricsText()).contains("mmuemu_events_dropped_total " + (double) dropped);
    }
  }

  @Test
  void abruptDisconnectMidRun_cancelsTheRun_andLeavesNothingBehind() throws Exception {
    int port = start(ServerSettings.defaults().withQueueEvents(64).withSendBufferBytes(4096));
    LineClient client = new LineClient(port, 4096);
    client.send(runRequest(1, "\"accesses\":100000000", ",\"events\":\"all\""));
    assertThat(client.read().get("type").asText()).isEqualTo("accepted");
    client.readLine();
    awaitTrue(() -> server.activeRunThreads() == 1, "the run to be executing");

    client.socket.setSoLinger(true, 0); // close with a reset, like a killed client
    client.close();

    awaitTrue(
        () -> server.runsInFlight() == 0 && server.activeRunThreads() == 0 && server.clients() == 0,
        "the run to be cancelled and the client gone");
    assertThat(server.queuedMessages()).isZero();
    assertThat(server.metricsText())
        .contains("mmuemu_runs_finished_total{outcome=\"cancelled\"} 1.0");
    assertThat(server.context().runSlots().availablePermits())
        .isEqualTo(server.context().settings().maxRuns());
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(
            t -> t.getName().startsWith("mmuemu-run-") && t.getState() == Thread.State.RUNNABLE);
  }

  @Test
  void wrongToken_refused_rightTokenRuns() throws Exception {
    int port = start(ServerSettings.defaults().withToken("correct horse battery"));
    try (LineClient client = new LineClient(port)) {
      client.send(runRequest(1, "\"accesses\":100", ""));
      assertThat(client.read().get("code").asText()).isEqualTo(Messages.UNAUTHORIZED);
      client.send("{\"id\":2,\"op\":\"hello\",\"token\":\"battery staple horse\"}");
      assertThat(client.read().get("code").asText()).isEqualTo(Messages.UNAUTHORIZED);

      // Too soon after a wrong token from this address: refused without being looked at.
      client.send("{\"id\":3,\"op\":\"hello\",\"token\":\"correct horse battery\"}");
      assertThat(client.read().get("message").asText())
          .startsWith(
              "hello refused: a wrong token came from this " + "address recently; retry in ");
      Thread.sleep(AuthThrottle.FIRST_DELAY_NANOS / 1_000_000 + 50);
      client.send("{\"id\":3,\"op\":\"hello\",\"token\":\"correct horse battery\"}");
      assertThat(client.read().get("authenticated").asBoolean()).isTrue();
      client.send(runRequest(4, "\"accesses\":100", ""));
      assertThat(client.read().get("type").asText()).isEqualTo("accepted");
      assertThat(client.readRun(4).end().get("type").asText()).isEqualTo("result");
    }
  }

  @Test
  void clientThatHalfClosesAfterItsRequests_getsItsResult_thenTheServerCloses() throws Exception {
    int port = start(ServerSettings.defaults());
    try (LineClient client = new LineClient(port)) {
      client.send(runRequest(1, "\"accesses\":200", ",\"events\":[\"walk\"],\"sample\":100"));
      client.socket.shutdownOutput(); // what nc -N does at the end of its input

      List<String> lines = new ArrayList<>();
      for (String line = client.readLine(); line != null; line = client.readLine()) {
        lines.add(line);
      }

      assertThat(lines.get(0)).isEqualTo("{\"id\":1,\"type\":\"accepted\",\"op\":\"run\"}");
      assertThat(lines.get(lines.size() - 1))
          .startsWith("{\"id\":1,\"type\":\"result\",\"exitCode\":0,");
    }
  }

  @Test
  void oversizedLineOverASocket_connectionStaysUsable() throws Exception {
    int port = start(ServerSettings.defaults().withMaxLineBytes(1024));
    try (LineClient client = new LineClient(port)) {
      client.send("{\"id\":1,\"op\":\"hello\",\"x\":\"" + "y".repeat(100_000) + "\"}");
      client.send("{\"id\":2,\"op\":\"hello\"}");

      assertThat(client.read().get("code").asText()).isEqualTo(Messages.LINE_TOO_LONG);
      assertThat(client.read().get("id").asInt()).isEqualTo(2);
    }
  }

  /** One Prometheus text sample: {@code name{labels} value}. */
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)");

  private static final Pattern TYPE =
      Pattern.compile(
          "# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) " + "(counter|gauge|histogram|summary|untyped)");

  @Test
  void metrics_parseAsPrometheusText_andCountWhatHappened() throws Exception {
    int port = start(ServerSettings.defaults());
    long events;
    try (LineClient client = new LineClient(port)) {
      client.send(runRequest(1, "\"accesses\":200", ",\"events\":[\"fault\"]"));
      events = client.readRun(1).events().size();
    }
    awaitTrue(() -> server.clients() == 0, "the client to go");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue(HttpEndpoints.PROMETHEUS_TEXT);
    Map<String, String> types = new HashMap<>();
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.startsWith("# HELP ")) {
        continue;
      }
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        types.put(type.group(1), type.group(2));
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      assertThat(sample.matches()).as("a sample line: %s", line).isTrue();
      String name = sample.group(1);
      String family =
          types.containsKey(name) ? name : name.replaceFirst("_(count|sum|bucket)$", "");
      assertThat(types).as("a TYPE line before %s", line).containsKey(family);
      if (!family.equals(name)) {
        assertThat(types.get(family)).as(line).isIn("summary", "histogram");
      }
      samples.put(
          sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)),
          Double.parseDouble(sample.group(3)));
    }
    assertThat(samples)
        .containsEntry("mmuemu_runs_finished_total{outcome=\"ok\"}", 1.0)
        .containsEntry("mmuemu_runs_in_flight", 0.0)
        .containsEntry("mmuemu_clients", 0.0)
        .containsEntry("mmuemu_events_streamed_total", (double) events)
        .containsEntry("mmuemu_events_dropped_total", 0.0)
        .containsEntry("mmuemu_run_wall_seconds_count", 1.0);
    assertThat(samples.get("mmuemu_run_wall_seconds_sum")).isPositive();
    assertThat(samples.get("mmuemu_sent_bytes_total")).isGreaterThan(events * 40.0);

    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("ok\n");
  }

  @Test
  void webSocketClient_receivesTheSameMessages() throws Exception {
    int port = start(ServerSettings.defaults());
    List<JsonNode> messages = new ArrayList<>();
    CompletableFuture<JsonNode> end = new CompletableFuture<>();
    WebSocket.Listener listener =
        new WebSocket.Listener() {
          private final StringBuilder partial = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              try {
                JsonNode node = Messages.MAPPER.readTree(partial.toString());
                messages.add(node);
                String type = node.path("type").asText();
                if (node.path("id").asInt() == 1
                    && (type.equals("result") || type.equals("error"))) {
                  end.complete(node);
                }
              } catch (Exception e) {
                end.completeExceptionally(e);
              }
              partial.setLength(0);
            }
            socket.request(1);
            return null;
          }
        };
    WebSocket socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + port + "/stream"), listener)
            .get(10, TimeUnit.SECONDS);
    socket
        .sendText(runRequest(1, "\"accesses\":200", ",\"events\":[\"walk\"],\"sample\":10"), true)
        .get(10, TimeUnit.SECONDS);

    JsonNode result = end.get(30, TimeUnit.SECONDS);
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);

    assertThat(result.get("type").asText()).isEqualTo("result");
    List<JsonNode> events =
        messages.stream().filter(m -> m.path("type").asText().equals("event")).toList();
    assertThat(events)
        .isNotEmpty()
        .allMatch(e -> e.get("kind").asText().equals("walk") && e.get("id").asInt() == 1);
    assertThat(result.get("events").asLong()).isEqualTo(events.size());
    assertThat(messages.get(0).get("type").asText()).isEqualTo("accepted");
    AtomicLong expected = new AtomicLong();
    localRun(Map.of("accesses", "200"), 1, EventKind.WALK.bit(), expected);
    assertThat(events).hasSize((int) ((expected.get() + 9) / 10));
  }
}
