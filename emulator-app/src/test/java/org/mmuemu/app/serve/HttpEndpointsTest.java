package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.junit.jupiter.api.Test;

/**
 * One port serves both protocols: the first bytes decide. HTTP requests get /health, /metrics
 * (Prometheus text) and 404s; anything else is the JSON-lines protocol. On an EmbeddedChannel.
 */
final class HttpEndpointsTest {
  private static EmbeddedControl connection() {
    return new EmbeddedControl(EmbeddedControl.settings(), Runnable::run);
  }

  @Test
  void getHealth_ok() {
    EmbeddedControl c = connection();
    c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");

    String response = c.outboundText();
    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok\n");
    assertThat(c.context.metrics().clients())
        .as("an HTTP request is not a control client")
        .isZero();
  }

  @Test
  void getMetrics_prometheusTextWithTheServersMeters() {
    EmbeddedControl c = connection();
    c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

    String response = c.outboundText();
    assertThat(response)
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("content-type: text/plain; version=0.0.4; charset=utf-8")
        .contains("\n# TYPE mmuemu_runs_in_flight gauge\n")
        .contains("\nmmuemu_clients 0.0\n")
        .contains("\n# TYPE mmuemu_events_streamed_total counter\n")
        .contains("mmuemu_runs_finished_total{outcome=\"ok\"} 0.0");
  }

  @Test
  void requestSplitAcrossWrites_stillSniffedAsHttp() {
    EmbeddedControl c = connection();
    c.send("GE");
    assertThat(c.outboundText()).isEmpty();
    c.send("T /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");

    assertThat(c.outboundText())
        .startsWith("HTTP/1.1 404 Not Found\r\n")
        .contains("/nowhere: not found");
  }

  @Test
  void postToMetrics_methodNotAllowed() {
    EmbeddedControl c = connection();
    c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");

    assertThat(c.outboundText()).startsWith("HTTP/1.1 405 Method Not Allowed\r\n");
  }

  @Test
  void jsonFirstByte_isTheLineProtocol() throws Exception {
    EmbeddedControl c = connection();
    c.send("{\"id\":1,\"op\":\"hello\"}\n");

    assertThat(c.onlyResponse().get("type").asText()).isEqualTo("hello");
    assertThat(c.context.metrics().clients()).isEqualTo(1);
  }

  @Test
  void httpClientThatHalfCloses_isAnsweredThenClosed() {
    EmbeddedControl c = connection();
    c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    c.channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

    assertThat(c.outboundText()).startsWith("HTTP/1.1 200 OK\r\n");
    assertThat(c.channel.isOpen()).isFalse();
  }

  @Test
  void connectionThatHalfClosesBeforeSayingAnything_isClosed() {
    EmbeddedControl c = connection();
    c.send("GE");
    c.channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

    assertThat(c.channel.isOpen()).isFalse();
  }

  @Test
  void lineClientThatHalfClosesWithNoRunInProgress_isAnsweredThenClosed() throws Exception {
    EmbeddedControl c = connection();
    c.send("{\"id\":1,\"op\":\"hello\"}\n");
    c.channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

    assertThat(c.onlyResponse().get("type").asText()).isEqualTo("hello");
    assertThat(c.channel.isOpen()).isFalse();
  }

  @Test
  void streamWithoutUpgrade_badRequest() {
    EmbeddedControl c = connection();
    c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");

    assertThat(c.outboundText())
        .startsWith("HTTP/1.1 400 Bad Request\r\n")
        .contains("Upgrade: websocket");
  }

  @Test
  void webSocketUpgrade_thenTheControlProtocolIsInstalled() {
    EmbeddedControl c = connection();
    c.send(
        "GET /stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

    assertThat(c.outboundText())
        .startsWith("HTTP/1.1 101 Switching Protocols\r\n")
        .contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assertThat(c.channel.pipeline().get(ControlHandler.class)).isNotNull();
    assertThat(c.context.metrics().clients()).isEqualTo(1);
  }

  @Test
  void connectionThatSaysNothing_isClosedAfterTheTimeout_oneThatSpeaksIsNot() throws Exception {
    EmbeddedControl silent = connection();
    EmbeddedControl speaking = connection();
    speaking.send("{\"id\":1,\"op\":\"hello\"}\n");

    for (EmbeddedControl c : new EmbeddedControl[] {silent, speaking}) {
      c.channel.advanceTimeBy(
          ControlPipelines.ProtocolSniffer.FIRST_BYTES_TIMEOUT_SECONDS + 1,
          java.util.concurrent.TimeUnit.SECONDS);
      c.channel.runScheduledPendingTasks();
    }

    assertThat(silent.channel.isOpen()).isFalse();
    assertThat(speaking.channel.isOpen()).isTrue();
  }
}
