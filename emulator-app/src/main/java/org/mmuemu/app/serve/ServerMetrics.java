package org.mmuemu.app.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control server's host metrics, in an explicit Prometheus registry (no global registry): runs
 * in flight and finished (by outcome), run wall time, events streamed and dropped, connected
 * clients, bytes sent, run pauses for slow clients. Served as Prometheus text by {@code GET
 * /metrics}. Thread-safe.
 */
final class ServerMetrics {
  /** The outcomes a finished run is counted under. */
  enum Outcome {
    ok,
    violations,
    bad_input,
    cancelled,
    refused,
    error
  }

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger runsInFlight = new AtomicInteger();
  private final AtomicInteger clients = new AtomicInteger();
  private final Counter[] runsFinished = new Counter[Outcome.values().length];
  private final Counter eventsStreamed;
  private final Counter eventsDropped;
  private final Counter bytesSent;
  private final Counter runPauses;
  private final Counter requestsRejected;
  private final Timer runWallTime;
  private final Counter writeTimeouts;
  private final Counter runsRefusedForMemory;
  private final Counter helloThrottled;
  private final Counter originsRefused;

  ServerMetrics() {
    Gauge.builder("mmuemu.runs.in.flight", runsInFlight, AtomicInteger::get)
        .description("Runs executing now")
        .register(registry);
    Gauge.builder("mmuemu.clients", clients, AtomicInteger::get)
        .description("Control-port clients connected now (TCP lines and WebSocket)")
        .register(registry);
    for (Outcome outcome : Outcome.values()) {
      runsFinished[outcome.ordinal()] =
          Counter.builder("mmuemu.runs.finished")
              .tag("outcome", outcome.name())
              .description("Runs that ended, by outcome")
              .register(registry);
    }
    eventsStreamed =
        Counter.builder("mmuemu.events.streamed")
            .description("Events written to clients")
            .register(registry);
    eventsDropped =
        Counter.builder("mmuemu.events.dropped")
            .description("Events dropped for slow clients of runs in drop mode")
            .register(registry);
    bytesSent =
        Counter.builder("mmuemu.sent")
            .baseUnit("bytes")
            .description("Bytes written to sockets (all protocols)")
            .register(registry);
    runPauses =
        Counter.builder("mmuemu.run.pauses")
            .description("Times a run waited for a slow client to read")
            .register(registry);
    requestsRejected =
        Counter.builder("mmuemu.requests.rejected")
            .description("Requests answered with an error before any run started")
            .register(registry);
    writeTimeouts =
        Counter.builder("mmuemu.clients.write.timeouts")
            .description(
                "Clients disconnected because they left written data unread for the write timeout")
            .register(registry);
    runsRefusedForMemory =
        Counter.builder("mmuemu.runs.refused.memory")
            .description("Runs refused because they did not fit the server's host-memory budget")
            .register(registry);
    helloThrottled =
        Counter.builder("mmuemu.hello.throttled")
            .description(
                "hello requests refused because their address failed authentication recently")
            .register(registry);
    originsRefused =
        Counter.builder("mmuemu.websocket.origins.refused")
            .description("WebSocket handshakes refused (403) for a foreign Origin")
            .register(registry);
    runWallTime =
        Timer.builder("mmuemu.run.wall")
            .description("Wall time of runs, from accepted to ended")
            .register(registry);
  }

  /** The Prometheus text exposition of every meter. */
  String scrape() {
    return registry.scrape();
  }

  void runStarted() {
    runsInFlight.incrementAndGet();
  }

  void runFinished(Outcome outcome) {
    runsInFlight.decrementAndGet();
    runsFinished[outcome.ordinal()].increment();
  }

  /** Records the wall time of a run that has ended. */
  void runWallTime(long nanos) {
    runWallTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  int runsInFlight() {
    return runsInFlight.get();
  }

  void clientConnected() {
    clients.incrementAndGet();
  }

  void clientDisconnected() {
    clients.decrementAndGet();
  }

  int clients() {
    return clients.get();
  }

  void eventStreamed() {
    eventsStreamed.increment();
  }

  void eventDropped() {
    eventsDropped.increment();
  }

  void bytesSent(long bytes) {
    bytesSent.increment(bytes);
  }

  void runPaused() {
    runPauses.increment();
  }

  void requestRejected() {
    requestsRejected.increment();
  }

  void writeTimedOut() {
    writeTimeouts.increment();
  }

  void runRefusedForMemory() {
    runsRefusedForMemory.increment();
  }

  void helloThrottled() {
    helloThrottled.increment();
  }

  void originRefused() {
    originsRefused.increment();
  }

  double writeTimeouts() {
    return writeTimeouts.count();
  }

  double runsFinished(Outcome outcome) {
    return runsFinished[outcome.ordinal()].count();
  }
}
