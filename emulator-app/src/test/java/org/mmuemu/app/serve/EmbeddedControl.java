package org.mmuemu.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * A control-port connection on an {@link EmbeddedChannel}: no sockets, no threads. Bytes go in as
 * the client would send them; {@link #responses()} runs the pending event-loop tasks (the queue's
 * drains) and returns what the server wrote, one parsed JSON object per line.
 */
final class EmbeddedControl {
  final EmbeddedChannel channel;
  final ServerContext context;
  private final StringBuilder pending = new StringBuilder();

  EmbeddedControl(ServerSettings settings, Executor runExecutor) {
    context = ServerContext.create(settings, runExecutor);
    channel = new EmbeddedChannel();
    ControlPipelines.initConnection(channel.pipeline(), context);
  }

  static ServerSettings settings() {
    return ServerSettings.defaults().withPort(0);
  }

  /** Sends text exactly as given (add the newline yourself). */
  void send(String text) {
    channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
  }

  /** Everything written since the last call, as text. */
  String outboundText() {
    channel.runPendingTasks();
    StringBuilder text = new StringBuilder();
    for (Object message = channel.readOutbound();
        message != null;
        message = channel.readOutbound()) {
      ByteBuf buf = (ByteBuf) message;
      text.append(buf.toString(StandardCharsets.UTF_8));
      buf.release();
    }
    return text.toString();
  }

  /** The complete response lines written since the last call, parsed. */
  List<JsonNode> responses() throws Exception {
    pending.append(outboundText());
    List<JsonNode> parsed = new ArrayList<>();
    int newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      parsed.add(Messages.MAPPER.readTree(pending.substring(0, newline)));
      pending.delete(0, newline + 1);
    }
    return parsed;
  }

  /** The one response to the lines sent so far. */
  JsonNode onlyResponse() throws Exception {
    List<JsonNode> all = responses();
    if (all.size() != 1) {
      throw new AssertionError("expected one response, got " + all);
    }
    return all.get(0);
  }
}
