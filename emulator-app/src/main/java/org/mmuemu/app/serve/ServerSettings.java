package org.mmuemu.app.serve;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.mmuemu.core.mem.HostMemoryBudget;

/**
 * What a {@link ControlServer} is told at start. Immutable.
 *
 * @param host the address to bind; loopback unless the operator says otherwise
 * @param port the TCP port; 0 picks a free one (tests)
 * @param token the shared secret a client must present in {@code hello}, or null for none (allowed
 *     on loopback only: {@link ControlServer} refuses a non-loopback bind without one); at least
 *     {@value #MIN_TOKEN_BYTES} bytes, so it cannot be guessed
 * @param maxRuns runs in flight at once over all clients, 1 to 1024; more are refused
 * @param maxLineBytes the longest request line (and WebSocket frame) accepted, 256 to 16 MiB
 * @param queueEvents events one client's outbound queue holds before its runs pause (or drop, per
 *     run), 1 to 1,000,000; control messages (result, error, progress) are never dropped
 * @param progressInterval how often a run reports {@code progress}, wall time
 * @param sendBufferBytes the socket send buffer of accepted connections, or 0 for the OS default
 *     (tests set it small to make a slow reader visible quickly)
 * @param writeTimeout how long a client may leave written data unread before it is disconnected
 *     (its runs cancelled, their slots freed)
 * @param allowedOrigins WebSocket {@code Origin}s accepted besides the server's own host ({@code
 *     http://host:port}, compared without case); a browser page from anywhere else is refused with
 *     403
 * @param memoryBudgetBytes the host memory all runs in flight together may need ({@link
 *     org.mmuemu.core.mem.HostMemoryBudget}); a run that would go beyond it is refused
 */
public record ServerSettings(
    String host,
    int port,
    String token,
    int maxRuns,
    int maxLineBytes,
    int queueEvents,
    Duration progressInterval,
    int sendBufferBytes,
    Duration writeTimeout,
    List<String> allowedOrigins,
    long memoryBudgetBytes) {

  /** The default port of {@code mmuemu serve}. */
  public static final int DEFAULT_PORT = 7878;

  /** The shortest token accepted. */
  public static final int MIN_TOKEN_BYTES = 16;

  /** The default of {@link #writeTimeout}. */
  public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(60);

  public ServerSettings {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(progressInterval, "progressInterval");
    Objects.requireNonNull(writeTimeout, "writeTimeout");
    allowedOrigins = List.copyOf(allowedOrigins);
    check("port", port, 0, 65535);
    check("maxRuns", maxRuns, 1, 1024);
    check("maxLineBytes", maxLineBytes, 256, 16 << 20);
    check("queueEvents", queueEvents, 1, 1_000_000);
    check("sendBufferBytes", sendBufferBytes, 0, 64 << 20);
    if (writeTimeout.isNegative() || writeTimeout.isZero()) {
      throw new IllegalArgumentException(
          "writeTimeout: " + writeTimeout + " (expected: a positive duration)");
    }
    if (memoryBudgetBytes <= 0) {
      throw new IllegalArgumentException(
          "memoryBudgetBytes: " + memoryBudgetBytes + " (expected: positive)");
    }
    if (token != null && token.getBytes(StandardCharsets.UTF_8).length < MIN_TOKEN_BYTES) {
      throw new IllegalArgumentException(
          "token: "
              + token.getBytes(StandardCharsets.UTF_8).length
              + " bytes (expected: at least "
              + MIN_TOKEN_BYTES
              + ", a secret that cannot be guessed: "
              + "head -c 32 /dev/urandom | base64)");
    }
  }

  /**
   * Loopback, port {@value #DEFAULT_PORT}, no token, 4 runs, 1 MiB lines, 4096 queued events, a 60
   * s write timeout, no extra origins, the JVM's host-memory budget.
   */
  public static ServerSettings defaults() {
    return new ServerSettings(
        "127.0.0.1",
        DEFAULT_PORT,
        null,
        4,
        1 << 20,
        4096,
        Duration.ofSeconds(1),
        0,
        DEFAULT_WRITE_TIMEOUT,
        List.of(),
        HostMemoryBudget.budgetBytes());
  }

  public ServerSettings withPort(int newPort) {
    return new ServerSettings(
        host,
        newPort,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withHost(String newHost) {
    return new ServerSettings(
        newHost,
        port,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withToken(String newToken) {
    return new ServerSettings(
        host,
        port,
        newToken,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withMaxRuns(int newMaxRuns) {
    return new ServerSettings(
        host,
        port,
        token,
        newMaxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withMaxLineBytes(int newMaxLineBytes) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        newMaxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withQueueEvents(int newQueueEvents) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        maxLineBytes,
        newQueueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withProgressInterval(Duration newInterval) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        newInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withSendBufferBytes(int newSendBufferBytes) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        newSendBufferBytes,
        writeTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withWriteTimeout(Duration newWriteTimeout) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        newWriteTimeout,
        allowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withAllowedOrigins(List<String> newAllowedOrigins) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        newAllowedOrigins,
        memoryBudgetBytes);
  }

  public ServerSettings withMemoryBudgetBytes(long newMemoryBudgetBytes) {
    return new ServerSettings(
        host,
        port,
        token,
        maxRuns,
        maxLineBytes,
        queueEvents,
        progressInterval,
        sendBufferBytes,
        writeTimeout,
        allowedOrigins,
        newMemoryBudgetBytes);
  }

  private static void check(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + ": " + value + " (expected: " + min + " to " + max + ")");
    }
  }
}
