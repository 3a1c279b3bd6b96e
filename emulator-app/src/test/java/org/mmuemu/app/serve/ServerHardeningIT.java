package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The control port under hostile or broken clients (issue 10): a config that would exhaust the
 * heap, runs that together would, a browser page from another site, a client that stops reading,
 * and token guessing across connections.
 */
final class ServerHardeningIT {
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

  private static void awaitTrue(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void oneTebibyteMachine_refusedBeforeItRuns() throws Exception {
    int port = start(ServerSettings.defaults());
    try (LineClient client = new LineClient(port)) {
      client.send(
          "{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"set\":[\"/memoryBytes=1TiB\"],"
              + "\"workload\":\"stream\"}");
      assertThat(client.read().get("type").asText()).isEqualTo("accepted");
      JsonNode error = client.read();

      assertThat(error.get("code").asText()).isEqualTo(Messages.BAD_INPUT);
      assertThat(error.get("message").asText())
          .startsWith("/memoryBytes: 1TiB may need 16GiB of host memory " + "(expected: at most ");
    }
    assertThat(server.metricsText())
        .contains("mmuemu_runs_finished_total{outcome=\"bad_input\"} 1.0");
  }

  @Test
  void runsBeyondTheServersMemoryBudget_refused_andAdmittedAgainWhenRoomIsFreed() throws Exception {
    // Room for one default machine (8 GiB: 144 MiB at most), not two.
    int port = start(ServerSettings.defaults().withMemoryBudgetBytes(200L << 20));
    try (LineClient first = new LineClient(port);
        LineClient second = new LineClient(port)) {
      first.send(
          "{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
              + "\"params\":{\"accesses\":100000000}}");
      assertThat(first.read().get("type").asText()).isEqualTo("accepted");
      awaitTrue(
          () -> server.context().memory().reservedBytes() > 0,
          "the first run to reserve its memory");

      second.send(
          "{\"id\":2,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
              + "\"params\":{\"accesses\":100}}");
      assertThat(second.read().get("type").asText()).isEqualTo("accepted");
      JsonNode refused = second.read();
      assertThat(refused.get("code").asText()).isEqualTo(Messages.BUSY);
      assertThat(refused.get("message").asText())
          .startsWith(
              "run refused: this machine may need 145 MiB of host "
                  + "memory and runs in flight have reserved 145 MiB of the server's 200 MiB budget");
      assertThat(server.metricsText()).contains("mmuemu_runs_refused_memory_total 1.0");

      first.send("{\"id\":3,\"op\":\"cancel\",\"run\":1}");
      awaitTrue(
          () -> server.context().memory().reservedBytes() == 0,
          "the cancelled run to free its memory");
      second.send(
          "{\"id\":4,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
              + "\"params\":{\"accesses\":100}}");
      assertThat(second.readRun(4).end().get("type").asText()).isEqualTo("result");
    }
  }

  @Test
  void webSocketHandshake_fromAForeignOrigin_gets403() throws Exception {
    int port =
        start(
            ServerSettings.defaults().withAllowedOrigins(List.of("http://dashboard.example:8080")));

    assertThat(handshake(port, "http://evil.example.com")).startsWith("HTTP/1.1 403 Forbidden");
    assertThat(handshake(port, "http://localhost:" + (port + 1)))
        .startsWith("HTTP/1.1 403 Forbidden");
    assertThat(handshake(port, "null")).startsWith("HTTP/1.1 403 Forbidden");
    assertThat(server.metricsText()).contains("mmuemu_websocket_origins_refused_total 3.0");

    assertThat(handshake(port, "http://127.0.0.1:" + port))
        .startsWith("HTTP/1.1 101 Switching Protocols");
    assertThat(handshake(port, "http://localhost:" + port))
        .startsWith("HTTP/1.1 101 Switching Protocols");
    assertThat(handshake(port, "HTTP://Dashboard.example:8080/"))
        .startsWith("HTTP/1.1 101 Switching Protocols");
    assertThat(handshake(port, null)).startsWith("HTTP/1.1 101 Switching Protocols");
  }

  /** Sends a WebSocket upgrade request and returns the response head. */
  private static String handshake(int port, String origin) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      String request =
          "GET /stream HTTP/1.1\r\nHost: 127.0.0.1:"
              + port
              + "\r\nUpgrade: websocket\r\n"
              + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              + (origin == null ? "" : "Origin: " + origin + "\r\n")
              + "\r\n";
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder head = new StringBuilder();
      int b;
      while (head.indexOf("\r\n\r\n") < 0 && (b = in.read()) != -1) {
        head.append((char) b);
      }
      return head.toString();
    }
  }

  @Test
  void clientThatStopsReading_isDisconnected_itsRunCancelled_andTheSlotFreed() throws Exception {
    int port =
        start(
            ServerSettings.defaults()
                .withMaxRuns(1)
                .withQueueEvents(16)
                .withSendBufferBytes(4096)
                .withWriteTimeout(Duration.ofSeconds(1)));
    try (LineClient stalled = new LineClient(port, 4096)) {
      stalled.send(
          "{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
              + "\"params\":{\"accesses\":10000000},\"events\":[\"tlb.miss\",\"tlb.hit\"]}");
      // Never reads: the socket buffers fill, the run pauses, and after the write timeout the
      // server gives up on this client.
      awaitTrue(() -> server.runsInFlight() == 1, "the run to start");
      awaitTrue(() -> server.clients() == 0, "the stalled client to be disconnected");
    }
    awaitTrue(() -> server.runsInFlight() == 0, "its run to end");
    assertThat(server.metricsText())
        .contains("mmuemu_clients_write_timeouts_total 1.0")
        .contains("mmuemu_runs_finished_total{outcome=\"cancelled\"} 1.0");
    try (LineClient next = new LineClient(port)) {
      next.send(
          "{\"id\":2,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
              + "\"params\":{\"accesses\":100}}");
      assertThat(next.readRun(2).end().get("type").asText()).isEqualTo("result");
    }
  }

  @Test
  void wrongTokens_acrossConnections_areHeldToAGrowingDelay() throws Exception {
    int port = start(ServerSettings.defaults().withToken("0123456789abcdef-right"));
    String wrong = "{\"id\":1,\"op\":\"hello\",\"token\":\"0123456789abcdef-wrong\"}";
    String right = "{\"id\":2,\"op\":\"hello\",\"token\":\"0123456789abcdef-right\"}";
    try (LineClient first = new LineClient(port)) {
      first.send(wrong);
      assertThat(first.read().get("message").asText())
          .isEqualTo(
              "/token: wrong token; the next hello from this "
                  + "address is considered after 250 ms");
    }
    try (LineClient second = new LineClient(port)) {
      // A new connection does not reset the delay, and even the right token waits.
      second.send(right);
      assertThat(second.read().get("message").asText())
          .startsWith(
              "hello refused: a wrong token came from this " + "address recently; retry in ");
      Thread.sleep(300);
      second.send(wrong);
      assertThat(second.read().get("message").asText()).endsWith("considered after 500 ms");
    }
    assertThat(server.metricsText()).contains("mmuemu_hello_throttled_total 1.0");
    try (LineClient third = new LineClient(port)) {
      Thread.sleep(550);
      third.send(right);
      assertThat(third.read().get("authenticated").asBoolean()).isTrue();
    }
  }
}
