package org.mmuemu.app.serve;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.string.LineEncoder;
import io.netty.handler.codec.string.LineSeparator;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the control port's pipelines. One TCP port serves both protocols: the first bytes of a
 * connection decide ({@link ProtocolSniffer}). An HTTP request line ({@code GET /metrics}, {@code
 * GET /health}, or the WebSocket upgrade {@code GET /stream}) gets the HTTP pipeline; anything else
 * is the newline-delimited JSON protocol.
 *
 * <p>{@code ByteCounter} sits next to the socket in every pipeline and counts the bytes sent.
 */
final class ControlPipelines {
  private static final String AGGREGATOR = "aggregate";
  private static final String[] HTTP_METHODS = {
    "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS "
  };

  private ControlPipelines() {}

  /** The handlers of a freshly accepted connection. */
  static void initConnection(ChannelPipeline pipeline, ServerContext context) {
    pipeline.addLast("bytes", new ByteCounter(context.metrics()));
    // observeOutput: only a write that makes no progress for the timeout counts as idle.
    pipeline.addLast(
        "write-idle",
        new IdleStateHandler(
            true, 0, context.settings().writeTimeout().toMillis(), 0, TimeUnit.MILLISECONDS));
    pipeline.addLast("stalled-reader", new StalledReaderGuard(context.metrics()));
    pipeline.addLast("sniffer", new ProtocolSniffer(context));
    ServerLog.log().debug("connection accepted remote={}", ServerLog.remote(pipeline.channel()));
  }

  /** Newline-delimited JSON: lines of at most maxLineBytes, UTF-8, answered with lines. */
  static void addLineProtocol(ChannelPipeline pipeline, ServerContext context) {
    // failFast=false: an oversized line is discarded up to its newline, then reported once.
    pipeline.addLast(
        "frames", new LineBasedFrameDecoder(context.settings().maxLineBytes(), true, false));
    pipeline.addLast("text", new StringDecoder(StandardCharsets.UTF_8));
    pipeline.addLast("lines", new LineEncoder(LineSeparator.UNIX, StandardCharsets.UTF_8));
    pipeline.addLast("control", new ControlHandler(context));
  }

  /**
   * HTTP: /metrics, /health, and the WebSocket upgrade at /stream ({@link #addWebSocketUpgrade}).
   */
  static void addHttp(ChannelPipeline pipeline, ServerContext context) {
    pipeline.addLast("http", new HttpServerCodec());
    pipeline.addLast(AGGREGATOR, new HttpObjectAggregator(64 * 1024));
    pipeline.addLast("endpoints", new HttpEndpoints(context));
  }

  /**
   * Installs the WebSocket protocol handler when an upgrade request arrives, and passes the request
   * to its handshake. Installed only then, so plain HTTP connections never get WebSocket close
   * frames.
   */
  static void addWebSocketUpgrade(
      ChannelPipeline pipeline, ServerContext context, FullHttpRequest request) {
    pipeline.addAfter(
        AGGREGATOR,
        "websocket",
        new WebSocketServerProtocolHandler(
            WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(HttpEndpoints.STREAM_PATH)
                .maxFramePayloadLength(context.settings().maxLineBytes())
                .checkStartsWith(false)
                .build()));
    // The protocol handler has put its handshake handler just before itself, after the aggregator.
    pipeline.context(AGGREGATOR).fireChannelRead(request.retain());
  }

  /** After the WebSocket handshake: text frames carry the same messages as the TCP lines. */
  static void addWebSocketProtocol(ChannelPipeline pipeline, ServerContext context) {
    pipeline.addLast("frames-text", new WebSocketTextCodec());
    pipeline.addLast("control", new ControlHandler(context));
  }

  /**
   * Reads just enough of a new connection to tell HTTP from JSON lines, installs the right
   * handlers, and removes itself (handing on the bytes it has seen).
   */
  static final class ProtocolSniffer extends ByteToMessageDecoder {
    /** A connection that says nothing understandable for this long is closed. */
    static final long FIRST_BYTES_TIMEOUT_SECONDS = 30;

    private final ServerContext context;
    private ScheduledFuture<?> timeout;

    ProtocolSniffer(ServerContext context) {
      this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      timeout =
          ctx.executor()
              .schedule(
                  () -> {
                    if (ctx.pipeline().get(ProtocolSniffer.class) != null) {
                      ctx.close();
                    }
                  },
                  FIRST_BYTES_TIMEOUT_SECONDS,
                  TimeUnit.SECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
      if (timeout != null) {
        timeout.cancel(false);
      }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int readable = in.readableBytes();
      boolean waitForMore = false;
      for (String method : HTTP_METHODS) {
        int compared = Math.min(readable, method.length());
        boolean prefix = true;
        for (int i = 0; i < compared && prefix; i++) {
          prefix = in.getByte(in.readerIndex() + i) == method.charAt(i);
        }
        if (prefix && compared == method.length()) {
          addHttp(ctx.pipeline(), context);
          ctx.pipeline().remove(this);
          return;
        }
        waitForMore |= prefix;
      }
      if (!waitForMore) {
        addLineProtocol(ctx.pipeline(), context);
        ctx.pipeline().remove(this);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof ChannelInputShutdownEvent) {
        // Half-closed before saying enough to be understood: nothing will come to answer.
        ctx.close();
        return;
      }
      super.userEventTriggered(ctx, event);
    }
  }

  /** Text WebSocket frames in, Strings out; Strings written become text frames. */
  static final class WebSocketTextCodec extends MessageToMessageCodec<TextWebSocketFrame, String> {
    @Override
    protected void encode(ChannelHandlerContext ctx, String msg, List<Object> out) {
      out.add(new TextWebSocketFrame(msg));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, TextWebSocketFrame msg, List<Object> out) {
      out.add(msg.text());
    }
  }

  /**
   * Disconnects a client that has left written data unread for the write timeout: its runs are
   * cancelled (the session closes) and their slots freed, instead of waiting for it forever. A
   * connection with nothing to write is never idle in this sense.
   */
  static final class StalledReaderGuard extends ChannelInboundHandlerAdapter {
    private final ServerMetrics metrics;

    StalledReaderGuard(ServerMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof IdleStateEvent idle && idle.state() == IdleState.WRITER_IDLE) {
        ChannelOutboundBuffer pending = ctx.channel().unsafe().outboundBuffer();
        if (!ctx.channel().isWritable()
            || (pending != null && pending.totalPendingWriteBytes() > 0)) {
          metrics.writeTimedOut();
          ServerLog.log()
              .info(
                  "client disconnected remote={} reason=write-timeout pendingBytes={}",
                  ServerLog.remote(ctx.channel()),
                  pending == null ? 0 : pending.totalPendingWriteBytes());
          ctx.close();
        }
        return;
      }
      super.userEventTriggered(ctx, event);
    }
  }

  /** Counts the bytes handed to the socket. */
  static final class ByteCounter extends ChannelOutboundHandlerAdapter {
    private final ServerMetrics metrics;

    ByteCounter(ServerMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      if (msg instanceof ByteBuf buf) {
        metrics.bytesSent(buf.readableBytes());
      } else if (msg instanceof ByteBufHolder holder) {
        metrics.bytesSent(holder.content().readableBytes());
      }
      super.write(ctx, msg, promise);
    }
  }
}
