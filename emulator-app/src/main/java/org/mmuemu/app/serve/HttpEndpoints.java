package org.mmuemu.app.serve;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.nio.charset.StandardCharsets;
import org.mmuemu.core.text.TerminalText;

/**
 * The control port's HTTP side: {@code GET /metrics} (Prometheus text exposition of the server's
 * host metrics), {@code GET /health} ({@code ok}), 404 for other paths, 405 for other methods. A
 * WebSocket upgrade request at {@link #STREAM_PATH} from an allowed origin ({@link OriginPolicy};
 * others get 403) installs the WebSocket handler and, once the handshake completes, the control
 * protocol. Confined to the event loop.
 */
final class HttpEndpoints extends SimpleChannelInboundHandler<FullHttpRequest> {
  /** Where WebSocket clients connect. */
  static final String STREAM_PATH = "/stream";

  /** The Prometheus text exposition format, version 0.0.4. */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final ServerContext context;
  private final OriginPolicy originPolicy;

  HttpEndpoints(ServerContext context) {
    this.context = context;
    this.originPolicy =
        new OriginPolicy(
            context.settings().host(),
            context.settings().port(),
            context.settings().allowedOrigins());
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    String path = new QueryStringDecoder(request.uri()).path();
    if (path.equals(STREAM_PATH)
        && request
            .headers()
            .containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && ctx.pipeline().get(WebSocketServerProtocolHandler.class) == null) {
      String origin = request.headers().get(HttpHeaderNames.ORIGIN);
      if (!originPolicy.allows(origin, ctx.channel().localAddress())) {
        context.metrics().originRefused();
        ServerLog.log()
            .info(
                "websocket refused remote={} origin={}",
                ServerLog.remote(ctx.channel()),
                ServerLog.quoted(origin));
        FullHttpResponse forbidden =
            text(
                HttpResponseStatus.FORBIDDEN,
                "text/plain; charset=utf-8",
                "Origin "
                    + TerminalText.escape(origin)
                    + " is not allowed (expected: this host, or one given with serve --allow-origin)\n");
        ctx.writeAndFlush(forbidden).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      ControlPipelines.addWebSocketUpgrade(ctx.pipeline(), context, request);
      return;
    }
    FullHttpResponse response;
    if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
      response =
          text(
              HttpResponseStatus.METHOD_NOT_ALLOWED,
              "text/plain; charset=utf-8",
              request.method() + " " + path + ": only GET is served\n");
      response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
    } else if (path.equals("/metrics")) {
      response = text(HttpResponseStatus.OK, PROMETHEUS_TEXT, context.metrics().scrape());
    } else if (path.equals(STREAM_PATH)) {
      response =
          text(
              HttpResponseStatus.BAD_REQUEST,
              "text/plain; charset=utf-8",
              STREAM_PATH + ": a WebSocket endpoint (expected: an Upgrade: websocket request)\n");
    } else if (path.equals("/health")) {
      response = text(HttpResponseStatus.OK, "text/plain; charset=utf-8", "ok\n");
    } else {
      response =
          text(
              HttpResponseStatus.NOT_FOUND,
              "text/plain; charset=utf-8",
              path
                  + ": not found (expected: /metrics, /health, or a WebSocket upgrade at "
                  + STREAM_PATH
                  + ")\n");
    }
    if (request.method().equals(HttpMethod.HEAD)) {
      response.content().clear();
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    HttpUtil.setKeepAlive(response, keepAlive);
    if (keepAlive) {
      ctx.writeAndFlush(response);
    } else {
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
      ControlPipelines.addWebSocketProtocol(ctx.pipeline(), context);
    } else if (event instanceof ChannelInputShutdownEvent
        && ctx.pipeline().get(ControlHandler.class) == null) {
      // An HTTP client that half-closed (nc -N) has had its answers: end the connection.
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  private static FullHttpResponse text(HttpResponseStatus status, String contentType, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return response;
  }
}
