package org.mmuemu.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.mmuemu.app.SimulationRunner;
import org.mmuemu.configs.ConfigException;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.core.trace.json.EventJson;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * One run started by a client: executes on the server's run executor (never an event loop),
 * streams the events the client asked for through the client's {@link OutboundQueue}, reports
 * {@code progress} now and then, and ends with exactly one {@code result} or {@code error}.
 *
 * <p>The simulation is the same deterministic run as {@code mmuemu run}
 * ({@link SimulationRunner}), so the result equals the command line's for the same inputs.
 * {@link #cancel} (a {@code cancel} request, or the client disconnecting) stops it at the
 * simulation's next cancellation poll, and wakes it if it waits for a slow client. Whatever
 * the ending, the run slot is released and the run leaves its session.
 *
 * <p>The sink's fields are confined to the run thread; the counters other threads read are
 * volatile.
 */
final class RunTask implements Runnable, TraceSink {
  private final JsonNode id;
  private final String idJson;
  private final RunSpec spec;
  private final ServerContext context;
  private final OutboundQueue queue;
  private final ControlHandler session;
  private final long progressIntervalNanos;
  private final StringBuilder line = new StringBuilder(200);
  private final StringBuilder event = new StringBuilder(160);
  private final Runnable onPause;
  private List<String> tlbLevelNames = List.of();
  private long matching;
  private long lastProgressNanos;
  private final long startNanos;
  private volatile boolean cancelled;
  private volatile long eventsSent;
  private volatile long eventsDropped;
  private volatile long pauses;

  RunTask(JsonNode id, RunSpec spec, ServerContext context, OutboundQueue queue, ControlHandler session) {
    this.id = id;
    this.idJson = Messages.text(id);
    this.spec = spec;
    this.context = context;
    this.queue = queue;
    this.session = session;
    this.progressIntervalNanos = context.settings().progressInterval().toNanos();
    this.startNanos = System.nanoTime();
    this.lastProgressNanos = startNanos;
    this.onPause = () -> {
      pauses++;
      context.metrics().runPaused();
    };
  }

  JsonNode id() {
    return id;
  }

  /** Asks the run to stop; it ends with an error {@code cancelled}. Any thread. */
  void cancel() {
    cancelled = true;
  }

  boolean isCancelled() {
    return cancelled;
  }

  long eventsSent() {
    return eventsSent;
  }

  long eventsDropped() {
    return eventsDropped;
  }

  long pauses() {
    return pauses;
  }

  @Override
  public void run() {
    ServerMetrics.Outcome outcome = ServerMetrics.Outcome.error;
    String last;
    try {
      LoadedMachine loaded = spec.machineJson() != null
          ? context.loader().loadInline(spec.machineJson(), spec.overrides())
          : context.loader().load(spec.machineName(), spec.overrides());
      tlbLevelNames = loaded.spec().tlbLevels().stream().map(TlbLevelSpec::name).toList();
      RunResult result = SimulationRunner.run(context.registry(), loaded, spec.workload(), spec.params(), spec.seed(),
          spec.eventMask() == 0 ? List.of() : List.of(this), this::pollCancelled);
      int exitCode = SimulationRunner.exitCodeOf(result);
      ObjectNode reply = Messages.reply(id, "result");
      reply.put("exitCode", exitCode);
      reply.put("events", eventsSent);
      reply.put("dropped", eventsDropped);
      reply.set("result", Messages.tree(ResultJson.toJson(result)));
      last = Messages.text(reply);
      outcome = exitCode == 0 ? ServerMetrics.Outcome.ok : ServerMetrics.Outcome.violations;
    } catch (ConfigException e) {
      outcome = ServerMetrics.Outcome.bad_input;
      last = Messages.error(id, Messages.BAD_INPUT, e.lines());
    } catch (WorkloadException e) {
      outcome = ServerMetrics.Outcome.bad_input;
      last = Messages.error(id, Messages.BAD_INPUT, e.getMessage().replace("--param ", "/params/"));
    } catch (SimulatedOutOfMemoryException e) {
      outcome = ServerMetrics.Outcome.bad_input;
      last = Messages.error(id, Messages.BAD_INPUT, "/machine: " + e.getMessage());
    } catch (CancellationException e) {
      outcome = ServerMetrics.Outcome.cancelled;
      last = Messages.error(id, Messages.CANCELLED, "run cancelled after " + eventsSent + " events");
    } catch (RuntimeException | Error e) {
      last = Messages.error(id, Messages.INTERNAL, "internal error: " + e);
    }
    // Free the slot and the id before the last message goes out: a client that reacts to it
    // at once by starting another run must find room.
    try {
      context.metrics().runFinished(outcome);
      context.metrics().runWallTime(System.nanoTime() - startNanos);
      context.runSlots().release();
      session.runEnded(this);
    } finally {
      queue.offerControl(last);
      session.closeIfHalfClosedAndIdle();
    }
  }

  /** Polled by the scheduler every few thousand steps: cancellation, and progress reports. */
  private boolean pollCancelled() {
    if (cancelled) {
      return true;
    }
    long now = System.nanoTime();
    if (now - lastProgressNanos >= progressIntervalNanos) {
      lastProgressNanos = now;
      ObjectNode progress = Messages.reply(id, "progress");
      progress.put("events", eventsSent);
      progress.put("dropped", eventsDropped);
      progress.put("wallSeconds", BigDecimal.valueOf((now - startNanos) / 1_000_000L, 3));
      queue.offerControl(Messages.text(progress));
    }
    return false;
  }

  @Override
  public long kindMask() {
    return spec.eventMask();
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    if (matching++ % spec.sampleEvery() != 0) {
      return;
    }
    event.setLength(0);
    EventJson.append(event, kind, core, cycle, a, b, c, tlbLevelNames);
    line.setLength(0);
    // {"id":1,"type":"event","cycle":...}: the trace writer's object with the request id in front.
    line.append("{\"id\":").append(idJson).append(",\"type\":\"event\",").append(event, 1, event.length());
    if (queue.offerEvent(line.toString(), spec.pauseWhenSlow(), this::isCancelled, onPause)) {
      eventsSent++;
    } else if (!cancelled) {
      eventsDropped++;
      context.metrics().eventDropped();
    }
  }
}
