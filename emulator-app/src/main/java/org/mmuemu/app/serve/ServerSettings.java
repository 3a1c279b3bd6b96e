package org.mmuemu.app.serve;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link ControlServer} is told at start. Immutable.
 *
 * @param host the address to bind; loopback unless the operator says otherwise
 * @param port the TCP port; 0 picks a free one (tests)
 * @param token the shared secret a client must present in {@code hello}, or null for none
 *     (allowed on loopback only: {@link ControlServer} refuses a non-loopback bind without one)
 * @param maxRuns runs in flight at once over all clients, 1 to 1024; more are refused
 * @param maxLineBytes the longest request line (and WebSocket frame) accepted, 256 to 16 MiB
 * @param queueEvents events one client's outbound queue holds before its runs pause (or drop,
 *     per run), 1 to 1,000,000; control messages (result, error, progress) are never dropped
 * @param progressInterval how often a run reports {@code progress}, wall time
 * @param sendBufferBytes the socket send buffer of accepted connections, or 0 for the OS
 *     default (tests set it small to make a slow reader visible quickly)
 */
public record ServerSettings(String host, int port, String token, int maxRuns, int maxLineBytes, int queueEvents,
    Duration progressInterval, int sendBufferBytes) {

  /** The default port of {@code mmuemu serve}. */
  public static final int DEFAULT_PORT = 7878;

  public ServerSettings {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(progressInterval, "progressInterval");
    check("port", port, 0, 65535);
    check("maxRuns", maxRuns, 1, 1024);
    check("maxLineBytes", maxLineBytes, 256, 16 << 20);
    check("queueEvents", queueEvents, 1, 1_000_000);
    check("sendBufferBytes", sendBufferBytes, 0, 64 << 20);
    if (token != null && token.isEmpty()) {
      throw new IllegalArgumentException("token: \"\" (expected: null or a non-empty secret)");
    }
  }

  /** Loopback, port {@value #DEFAULT_PORT}, no token, 4 runs, 1 MiB lines, 4096 queued events. */
  public static ServerSettings defaults() {
    return new ServerSettings("127.0.0.1", DEFAULT_PORT, null, 4, 1 << 20, 4096, Duration.ofSeconds(1), 0);
  }

  public ServerSettings withPort(int newPort) {
    return new ServerSettings(host, newPort, token, maxRuns, maxLineBytes, queueEvents, progressInterval,
        sendBufferBytes);
  }

  public ServerSettings withHost(String newHost) {
    return new ServerSettings(newHost, port, token, maxRuns, maxLineBytes, queueEvents, progressInterval,
        sendBufferBytes);
  }

  public ServerSettings withToken(String newToken) {
    return new ServerSettings(host, port, newToken, maxRuns, maxLineBytes, queueEvents, progressInterval,
        sendBufferBytes);
  }

  public ServerSettings withMaxRuns(int newMaxRuns) {
    return new ServerSettings(host, port, token, newMaxRuns, maxLineBytes, queueEvents, progressInterval,
        sendBufferBytes);
  }

  public ServerSettings withMaxLineBytes(int newMaxLineBytes) {
    return new ServerSettings(host, port, token, maxRuns, newMaxLineBytes, queueEvents, progressInterval,
        sendBufferBytes);
  }

  public ServerSettings withQueueEvents(int newQueueEvents) {
    return new ServerSettings(host, port, token, maxRuns, maxLineBytes, newQueueEvents, progressInterval,
        sendBufferBytes);
  }

  public ServerSettings withProgressInterval(Duration newInterval) {
    return new ServerSettings(host, port, token, maxRuns, maxLineBytes, queueEvents, newInterval, sendBufferBytes);
  }

  public ServerSettings withSendBufferBytes(int newSendBufferBytes) {
    return new ServerSettings(host, port, token, maxRuns, maxLineBytes, queueEvents, progressInterval,
        newSendBufferBytes);
  }

  private static void check(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: " + min + " to " + max + ")");
    }
  }
}
