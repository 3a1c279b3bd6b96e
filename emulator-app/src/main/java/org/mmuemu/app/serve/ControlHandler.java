package org.mmuemu.app.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.mmuemu.app.version.VersionProvider;

/**
 * One client's session of the control protocol, the same over TCP lines and WebSocket: takes one
 * request (a JSON object as text) at a time and answers through the client's {@link OutboundQueue}.
 *
 * <p>Requests: {@code hello} (with {@code token} when the server has one), {@code list}, {@code
 * run}, {@code cancel}, {@code status}. Until a {@code hello} with the right token, a client of a
 * server with a token can do nothing else; three wrong tokens close the connection. Runs go to the
 * server's bounded executor, never this event loop; when every run slot is taken a {@code run} is
 * refused with {@code busy}. When the client goes away its runs are cancelled and its queue
 * emptied.
 *
 * <p>Confined to the channel's event loop, except {@link #runEnded}, {@link
 * #closeIfHalfClosedAndIdle} (run threads), {@link #cancelRuns} (server shutdown) and the read-only
 * counters, which touch only the synchronized run map, the thread-safe queue, or hand work to the
 * event loop.
 */
final class ControlHandler extends SimpleChannelInboundHandler<String> {
  private static final List<String> OPS = List.of("hello", "list", "run", "cancel", "status");
  private static final int MAX_FAILED_HELLOS = 3;

  private final ServerContext context;
  private final Map<String, RunTask> runs = Collections.synchronizedMap(new LinkedHashMap<>());
  private OutboundQueue queue;
  private boolean authenticated;
  private int failedHellos;
  private boolean closed;
  private boolean inputShutdown;
  private Channel channel;

  /** Runs whose last message is not yet queued (the run map forgets a run just before that). */
  private final AtomicInteger unfinishedRuns = new AtomicInteger();

  ControlHandler(ServerContext context) {
    this.context = context;
    this.authenticated = context.settings().token() == null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    queue = new OutboundQueue(ctx.channel(), context.settings().queueEvents(), context.metrics());
    context.sessions().add(this);
    context.metrics().clientConnected();
    ServerLog.log()
        .info(
            "client connected remote={} protocol={}",
            ServerLog.remote(channel),
            ctx.pipeline().get(ControlPipelines.WebSocketTextCodec.class) != null
                ? "websocket"
                : "lines");
  }

  Channel channel() {
    return channel;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    closeSession();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    closeSession();
  }

  /** Cancels every run of this client and frees its queue; idempotent. Event loop only. */
  private void closeSession() {
    if (closed) {
      return;
    }
    closed = true;
    ServerLog.log()
        .info(
            "client disconnected remote={} runsCancelled={}",
            ServerLog.remote(channel),
            runs.size());
    cancelRuns();
    queue.close();
    context.sessions().remove(this);
    context.metrics().clientDisconnected();
  }

  /** Cancels every run of this client. Any thread. */
  void cancelRuns() {
    synchronized (runs) {
      runs.values().forEach(RunTask::cancel);
    }
  }

  /**
   * The client shut down its sending side ({@code nc -N} at end of input): answer what it asked,
   * let its runs finish, then close.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelInputShutdownEvent) {
      inputShutdown = true;
      if (unfinishedRuns.get() == 0) {
        queue.closeWhenDrained();
      }
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      queue.scheduleDrain();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      // The decoder has discarded the line; the connection stays usable for the next one.
      reject(
          null,
          Messages.LINE_TOO_LONG,
          "line longer than "
              + context.settings().maxLineBytes()
              + " bytes (the server's limit); it was discarded");
      return;
    }
    if (cause instanceof java.io.IOException) {
      // The peer went away (reset); channelInactive cleans up.
      ctx.close();
      return;
    }
    ServerLog.log().error("client error remote={}", ServerLog.remote(ctx.channel()), cause);
    reject(null, Messages.INTERNAL, "internal error: " + cause);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, String text) {
    if (text.isBlank()) {
      return;
    }
    JsonNode request;
    try {
      request = Messages.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      reject(
          null,
          Messages.MALFORMED,
          "not JSON: "
              + e.getOriginalMessage()
              + (e.getLocation() == null ? "" : " (column " + e.getLocation().getColumnNr() + ")"));
      return;
    }
    if (request == null || !request.isObject()) {
      reject(
          null, Messages.MALFORMED, "not a JSON object (expected: {\"id\": 1, \"op\": \"hello\"})");
      return;
    }
    JsonNode id = request.get("id");
    if (id == null || !(id.isIntegralNumber() || id.isTextual())) {
      reject(
          null,
          Messages.BAD_REQUEST,
          "/id: "
              + (id == null ? "missing" : id.toString())
              + " (expected: a number or a string, echoed in every response)");
      return;
    }
    JsonNode opNode = request.get("op");
    String op = opNode != null && opNode.isTextual() ? opNode.textValue() : null;
    if (op == null || !OPS.contains(op)) {
      reject(
          id,
          op == null ? Messages.BAD_REQUEST : Messages.UNKNOWN_OP,
          "/op: "
              + (opNode == null ? "missing" : opNode.toString())
              + " (expected one of: "
              + String.join(", ", OPS)
              + ")");
      return;
    }
    if (!authenticated && !op.equals("hello")) {
      reject(
          id,
          Messages.UNAUTHORIZED,
          "not authenticated (expected: {\"id\": 1, \"op\": \"hello\", \"token\": "
              + "\"...\"} first)");
      return;
    }
    try {
      switch (op) {
        case "hello" -> hello(ctx, id, request);
        case "list" -> list(id);
        case "run" -> run(id, request);
        case "cancel" -> cancel(id, request);
        case "status" -> status(id);
        default -> throw new IllegalStateException(op);
      }
    } catch (ProtocolException e) {
      reject(id, e.code(), e.getMessage());
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    queue.pauseReadingIfBacklogged();
    super.channelReadComplete(ctx);
  }

  private void hello(ChannelHandlerContext ctx, JsonNode id, JsonNode request)
      throws ProtocolException {
    String expected = context.settings().token();
    if (expected != null && !authenticated) {
      InetAddress address = remoteAddress(ctx);
      long waitNanos =
          address == null ? 0 : context.authThrottle().waitNanos(address, System.nanoTime());
      JsonNode token = request.get("token");
      if (waitNanos > 0) {
        // Refused unseen, right token or not: guessing from one address is held to the delay.
        context.metrics().helloThrottled();
        failedHello(
            ctx,
            id,
            "hello refused: a wrong token came from this address recently; retry in "
                + Math.max(1, waitNanos / 1_000_000)
                + " ms");
        return;
      }
      if (!Tokens.matches(
          expected, token != null && token.isTextual() ? token.textValue() : null)) {
        long delayNanos =
            address == null ? 0 : context.authThrottle().failed(address, System.nanoTime());
        failedHello(
            ctx,
            id,
            (token == null ? "/token: missing (this server needs a token)" : "/token: wrong token")
                + "; the next hello from this address is considered after "
                + delayNanos / 1_000_000
                + " ms");
        return;
      }
      if (address != null) {
        context.authThrottle().succeeded(address);
      }
      authenticated = true;
    }
    ObjectNode reply = Messages.reply(id, "hello");
    reply.put("server", "mmuemu");
    reply.put("version", VersionProvider.version());
    reply.put("protocol", Messages.PROTOCOL_VERSION);
    reply.put("authenticated", true);
    OPS.forEach(reply.putArray("ops")::add);
    send(reply);
  }

  private void failedHello(ChannelHandlerContext ctx, JsonNode id, String message) {
    failedHellos++;
    reject(id, Messages.UNAUTHORIZED, message);
    if (failedHellos >= MAX_FAILED_HELLOS) {
      queue.drain();
      ctx.channel().close();
    }
  }

  private static InetAddress remoteAddress(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress inet
        ? inet.getAddress()
        : null;
  }

  private void list(JsonNode id) {
    ObjectNode reply = Messages.reply(id, "list");
    context.catalog().addTo(reply);
    send(reply);
  }

  private void run(JsonNode id, JsonNode request) throws ProtocolException {
    RunSpec spec = RunSpec.parse(request, context.loader()::isBuiltIn, context.builtInMachines());
    String key = Messages.text(id);
    if (runs.containsKey(key)) {
      throw new ProtocolException(
          Messages.BAD_REQUEST,
          "/id: "
              + key
              + " is a run still in progress on this "
              + "connection (expected: a new id)");
    }
    if (!context.runSlots().tryAcquire()) {
      throw new ProtocolException(
          Messages.BUSY,
          "run refused: "
              + context.settings().maxRuns()
              + " runs in flight, the server's --max-runs; retry when one ends");
    }
    RunTask task = new RunTask(id, spec, context, queue, this);
    runs.put(key, task);
    unfinishedRuns.incrementAndGet();
    context.metrics().runStarted();
    ObjectNode accepted = Messages.reply(id, "accepted");
    accepted.put("op", "run");
    send(accepted);
    ServerLog.log()
        .info(
            "run accepted remote={} id={} machine={} workload={}",
            ServerLog.remote(channel),
            ServerLog.quoted(key),
            ServerLog.quoted(spec.machineName() == null ? "inline" : spec.machineName()),
            ServerLog.quoted(spec.workload().name()));
    try {
      context.runExecutor().execute(task);
    } catch (RejectedExecutionException e) {
      runs.remove(key);
      unfinishedRuns.decrementAndGet();
      context.metrics().runFinished(ServerMetrics.Outcome.error);
      context.runSlots().release();
      throw new ProtocolException(Messages.BUSY, "run refused: the server is shutting down");
    }
  }

  private void cancel(JsonNode id, JsonNode request) throws ProtocolException {
    JsonNode target = request.get("run");
    if (target == null || !(target.isIntegralNumber() || target.isTextual())) {
      throw new ProtocolException(
          Messages.BAD_REQUEST,
          "/run: "
              + (target == null ? "missing" : target.toString())
              + " (expected: the id of a run of this connection)");
    }
    RunTask task = runs.get(Messages.text(target));
    if (task == null) {
      throw new ProtocolException(
          Messages.UNKNOWN_RUN,
          "/run: " + target + " (expected: the id of a run in " + "progress on this connection)");
    }
    task.cancel();
    ObjectNode reply = Messages.reply(id, "cancelled");
    reply.set("run", target);
    send(reply);
  }

  private void status(JsonNode id) {
    ObjectNode reply = Messages.reply(id, "status");
    ArrayNode list = reply.putArray("runs");
    synchronized (runs) {
      for (RunTask task : runs.values()) {
        ObjectNode entry = list.addObject();
        entry.set("run", task.id());
        entry.put("state", task.isCancelled() ? "cancelling" : "running");
        entry.put("events", task.eventsSent());
        entry.put("dropped", task.eventsDropped());
        entry.put("pauses", task.pauses());
      }
    }
    reply.put("runsInFlight", context.metrics().runsInFlight());
    reply.put("maxRuns", context.settings().maxRuns());
    reply.put("clients", context.metrics().clients());
    send(reply);
  }

  /** Called on the run thread when a run has ended, before its last message is queued. */
  void runEnded(RunTask task) {
    runs.remove(Messages.text(task.id()), task);
  }

  /**
   * Called on a run thread after a run's last message is queued: the run no longer counts as
   * unfinished, and a client that has half-closed is closed once its last run's messages are
   * written.
   */
  void closeIfHalfClosedAndIdle() {
    unfinishedRuns.decrementAndGet();
    try {
      channel
          .eventLoop()
          .execute(
              () -> {
                if (inputShutdown && unfinishedRuns.get() == 0) {
                  queue.closeWhenDrained();
                }
              });
    } catch (RejectedExecutionException e) {
      // The server is shutting down; the connection is being closed anyway.
    }
  }

  /** Runs of this client in progress now. */
  int runsInProgress() {
    return runs.size();
  }

  /** Messages waiting in this client's queue. */
  int queuedMessages() {
    return queue.size();
  }

  private void send(ObjectNode reply) {
    queue.offerControl(Messages.text(reply));
  }

  private void reject(JsonNode id, String code, String message) {
    context.metrics().requestRejected();
    ServerLog.log()
        .info(
            "request refused remote={} id={} code={} message={}",
            ServerLog.remote(channel),
            id == null ? "null" : ServerLog.quoted(Messages.text(id)),
            code,
            ServerLog.quoted(message));
    queue.offerControl(Messages.error(id, code, message));
  }
}
