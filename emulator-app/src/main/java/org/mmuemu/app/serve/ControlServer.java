package org.mmuemu.app.serve;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control port ({@code mmuemu serve}): clients start runs and receive their events as a stream,
 * over newline-delimited JSON on TCP or over WebSocket at {@code /stream}, on one port that also
 * answers {@code GET /metrics} and {@code GET /health}. The protocol is documented in {@code
 * docs/control-port.md}.
 *
 * <p>Threads: one acceptor and one I/O event loop (Netty NIO) do only I/O and request parsing; runs
 * execute on a bounded pool of {@link ServerSettings#maxRuns} run threads ({@code mmuemu-run-N},
 * idle ones exit after a few seconds). Binding to an address that is not loopback requires a token.
 *
 * <p>Typical use: {@code try (ControlServer server = new ControlServer(settings)) { int port =
 * server.start(); ... }}. {@link #close} cancels every run and stops every thread. Thread-safe.
 */
public final class ControlServer implements AutoCloseable {
  private static final long IDLE_RUN_THREAD_SECONDS = 5;

  private final ServerSettings settings;
  private final ThreadPoolExecutor runExecutor;
  private final ServerContext context;
  private EventLoopGroup acceptor;
  private EventLoopGroup workers;
  private Channel serverChannel;

  /**
   * Prepares a server (loads the ISAs and the built-in machine catalog); binds nothing yet.
   *
   * @throws IllegalArgumentException when the host does not resolve, or is not loopback and the
   *     settings have no token
   */
  public ControlServer(ServerSettings settings) {
    this.settings = settings;
    InetAddress address;
    try {
      address = InetAddress.getByName(settings.host());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--host " + settings.host() + ": unknown host");
    }
    if (!address.isLoopbackAddress() && settings.token() == null) {
      throw new IllegalArgumentException(
          "--host "
              + settings.host()
              + ": not a loopback address, so a token is "
              + "required (expected: --token-file <file>, or --host 127.0.0.1)");
    }
    AtomicInteger threadNumber = new AtomicInteger();
    ThreadFactory runThreads =
        runnable -> {
          Thread thread = new Thread(runnable, "mmuemu-run-" + threadNumber.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        };
    runExecutor =
        new ThreadPoolExecutor(
            settings.maxRuns(),
            settings.maxRuns(),
            IDLE_RUN_THREAD_SECONDS,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(settings.maxRuns()),
            runThreads,
            new ThreadPoolExecutor.AbortPolicy());
    runExecutor.allowCoreThreadTimeOut(true);
    context = ServerContext.create(settings, runExecutor);
  }

  /**
   * Binds and starts serving.
   *
   * @return the bound port (the chosen one when the settings say 0)
   * @throws InterruptedException when interrupted while binding
   * @throws IllegalStateException naming the address when it cannot be bound
   */
  public synchronized int start() throws InterruptedException {
    acceptor =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("mmuemu-accept", true), NioIoHandler.newFactory());
    workers =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("mmuemu-io", true), NioIoHandler.newFactory());
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(acceptor, workers)
            .channel(NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            // A client that half-closes after its requests (nc -N) still gets its runs' output.
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    ControlPipelines.initConnection(channel.pipeline(), context);
                  }
                });
    if (settings.sendBufferBytes() > 0) {
      bootstrap.childOption(ChannelOption.SO_SNDBUF, settings.sendBufferBytes());
    }
    try {
      serverChannel =
          bootstrap.bind(new InetSocketAddress(settings.host(), settings.port())).sync().channel();
    } catch (Exception e) {
      close();
      if (e instanceof InterruptedException interrupted) {
        throw interrupted;
      }
      throw new IllegalStateException(
          "--port "
              + settings.port()
              + ": cannot listen on "
              + settings.host()
              + ":"
              + settings.port()
              + " ("
              + e.getMessage()
              + ")",
          e);
    }
    return port();
  }

  /** The bound port. */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Waits until the server is closed. */
  public void awaitClose() throws InterruptedException {
    serverChannel.closeFuture().sync();
  }

  /** Runs executing now, over all clients. */
  public int runsInFlight() {
    return context.metrics().runsInFlight();
  }

  /** Run threads executing a run now (0 once every run has ended). */
  public int activeRunThreads() {
    return runExecutor.getActiveCount();
  }

  /** Connected control clients. */
  public int clients() {
    return context.metrics().clients();
  }

  /** Messages waiting in all clients' queues. */
  public int queuedMessages() {
    return context.sessions().stream().mapToInt(ControlHandler::queuedMessages).sum();
  }

  /** The Prometheus text of the host metrics, as {@code GET /metrics} serves it. */
  public String metricsText() {
    return context.metrics().scrape();
  }

  /** Cancels every run, closes every connection, stops every thread. Idempotent. */
  @Override
  public synchronized void close() {
    for (ControlHandler session : List.copyOf(context.sessions())) {
      session.cancelRuns();
    }
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (acceptor != null) {
      acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    runExecutor.shutdown();
    try {
      if (!runExecutor.awaitTermination(10, TimeUnit.SECONDS)) {
        runExecutor.shutdownNow();
      }
    } catch (InterruptedException e) {
      runExecutor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  ServerContext context() {
    return context;
  }
}
