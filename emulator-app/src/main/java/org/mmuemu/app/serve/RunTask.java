package org.mmuemu.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.mmuemu.app.runner.SimulationRunner;
import org.mmuemu.configs.ConfigException;
import org.mmuemu.configs.LoadedMachine;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.mem.HostMemoryBudget;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.core.trace.json.EventJson;
import org.mmuemu.kernel.workload.WorkloadException;

/**
 * One run started by a client: executes on the server's run executor (never an event loop), streams
 * the events the client asked for through the client's {@link OutboundQueue}, reports {@code
 * progress} now and then, and ends with exactly one {@code result} or {@code error}.
 *
 * <p>The simulation is the same deterministic run as {@code mmuemu run} ({@link SimulationRunner}),
 * so the result equals the command line's for the same inputs. {@link #cancel} (a {@code cancel}
 * request, or the client disconnecting) stops it at the simulation's next cancellation poll, and
 * wakes it if it waits for a slow client. Whatever the ending, the run slot is released and the run
 * leaves its session.
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

  RunTask(
      JsonNode id,
      RunSpec spec,
      ServerContext context,
      OutboundQueue queue,
      ControlHandler session) {
    this.id = id;
    this.idJson = Messages.text(id);
    this.spec = spec;
    this.context = context;
    this.queue = queue;
    this.session = session;
    this.progressIntervalNanos = context.settings().progressInterval().toNanos();
    this.startNanos = System.nanoTime();
    this.lastProgressNanos = startNanos;
    this.onPause =
        () -> {
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
    String detail = "";
    long reservedBytes = 0;
    try {
      LoadedMachine loaded =
          spec.machineJson() != null
              ? context.loader().loadInline(spec.machineJson(), spec.overrides())
              : context.loader().load(spec.machineName(), spec.overrides());
      long hostBytes = HostMemoryBudget.hostBytesFor(loaded.spec());
      if (!context.memory().tryReserve(hostBytes)) {
        context.metrics().runRefusedForMemory();
        outcome = ServerMetrics.Outcome.refused;
        detail = " hostBytes=" + hostBytes + " reservedBytes=" + context.memory().reservedBytes();
        last =
            Messages.error(
                id,
                Messages.BUSY,
                "run refused: this machine may need "
                    + mib(hostBytes)
                    + " MiB of host memory and runs in flight have reserved "
                    + mib(context.memory().reservedBytes())
                    + " MiB of the server's "
                    + mib(context.memory().budgetBytes())
                    + " MiB budget; retry when one ends, "
                    + "or use less /memoryBytes");
      } else {
        reservedBytes = hostBytes;
        tlbLevelNames = loaded.spec().tlbLevels().stream().map(TlbLevelSpec::name).toList();
        RunResult result =
            SimulationRunner.run(
                context.registry(),
                loaded,
                spec.workload(),
                spec.params(),
                spec.seed(),
                spec.eventMask() == 0 ? List.of() : List.of(this),
                this::pollCancelled);
        int exitCode = SimulationRunner.exitCodeOf(result);
        ObjectNode reply = Messages.reply(id, "result");
        reply.put("exitCode", exitCode);
        reply.put("events", eventsSent);
        reply.put("dropped", eventsDropped);
        reply.set("result", Messages.tree(ResultJson.toJson(result)));
        last = Messages.text(reply);
        outcome = exitCode == 0 ? ServerMetrics.Outcome.ok : ServerMetrics.Outcome.violations;
      }
    } catch (ConfigException e) {
      outcome = ServerMetrics.Outcome.bad_input;
      last = Messages.error(id, Messages.BAD_INPUT, e.lines());
      detail = " problem=" + ServerLog.quoted(e.lines().get(0));
    } catch (WorkloadException e) {
      outcome = ServerMetrics.Outcome.bad_input;
      last = Messages.error(id, Messages.BAD_INPUT, e.getMessage().replace("--param ", "/params/"));
      detail = " problem=" + ServerLog.quoted(e.getMessage());
    } catch (SimulatedOutOfMemoryException e) {
      outcome = ServerMetrics.Outcome.bad_input;
      last = Messages.error(id, Messages.BAD_INPUT, "/machine: " + e.getMessage());
    } catch (CancellationException e) {
      outcome = ServerMetrics.Outcome.cancelled;
      last =
          Messages.error(id, Messages.CANCELLED, "run cancelled after " + eventsSent + " events");
    } catch (OutOfMemoryError e) {
      // What the run held is unreachable now; the server and the other runs go on.
      ServerLog.log()
          .error(
              "run out-of-memory remote={} id={} error={}",
              ServerLog.remote(session.channel()),
              idJson,
              ServerLog.quoted(String.valueOf(e.getMessage())));
      last =
          Messages.error(id, Messages.INTERNAL, "run stopped: the server ran out of host memory");
    } catch (RuntimeException | Error e) {
      ServerLog.log()
          .error(
              "run internal-error remote={} id={}", ServerLog.remote(session.channel()), idJson, e);
      last = Messages.error(id, Messages.INTERNAL, "internal error: " + e);
    }
    long wallNanos = System.nanoTime() - startNanos;
    ServerLog.log()
        .info(
            "run ended remote={} id={} machine={} workload={} outcome={} events={} dropped={} "
                + "wallMillis={}{}",
            ServerLog.remote(session.channel()),
            ServerLog.quoted(idJson),
            ServerLog.quoted(spec.machineName() == null ? "inline" : spec.machineName()),
            ServerLog.quoted(spec.workload().name()),
            outcome,
            eventsSent,
            eventsDropped,
            wallNanos / 1_000_000,
            detail);
    // Free the slot and the id before the last message goes out: a client that reacts to it
    // at once by starting another run must find room.
    try {
      context.memory().release(reservedBytes);
      context.metrics().runFinished(outcome);
      context.metrics().runWallTime(wallNanos);
      context.runSlots().release();
      session.runEnded(this);
    } finally {
      queue.offerControl(last);
      session.closeIfHalfClosedAndIdle();
    }
  }

  private static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
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
    line.append("{\"id\":")
        .append(idJson)
        .append(",\"type\":\"event\",")
        .append(event, 1, event.length());
    if (queue.offerEvent(line.toString(), spec.pauseWhenSlow(), this::isCancelled, onPause)) {
      eventsSent++;
    } else if (!cancelled) {
      eventsDropped++;
      context.metrics().eventDropped();
    }
  }
}
