package org.mmuemu.app.serve;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.core.mem.HostMemoryBudget;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mmuemu serve}: the control port. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Open the control port: clients start runs and receive their events as a stream, as "
          + "newline-delimited JSON over TCP or over WebSocket at /stream; GET /metrics (Prometheus text) and "
          + "GET /health on the same port. Runs until interrupted.",
      "Protocol: docs/control-port.md."
    },
    footer = {
      "",
      "Example:",
      "  mmuemu serve --port 7878",
      "  printf '{\"id\":1,\"op\":\"run\",\"machine\":\"arm64-neoverse-n1\",\"workload\":\"stream\","
          + "\"params\":{\"accesses\":1000}}\\n' | nc -N 127.0.0.1 7878"
    })
public final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      paramLabel = "<address>",
      defaultValue = "127.0.0.1",
      description =
          "The address to listen on (default: ${DEFAULT-VALUE}); an address other than loopback needs "
              + "--token-file.")
  String host;

  @Option(
      names = "--port",
      paramLabel = "<port>",
      defaultValue = "" + ServerSettings.DEFAULT_PORT,
      description = "The TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--token-file",
      paramLabel = "<file>",
      description =
          "A file holding the token clients must send in 'hello' (surrounding whitespace ignored).")
  Path tokenFile;

  @Option(
      names = "--max-runs",
      paramLabel = "N",
      defaultValue = "4",
      description =
          "Runs in flight at once over all clients; more are refused (default: ${DEFAULT-VALUE}).")
  int maxRuns;

  @Option(
      names = "--max-line-bytes",
      paramLabel = "N",
      defaultValue = "1048576",
      description =
          "The longest request line or WebSocket frame accepted (default: ${DEFAULT-VALUE}).")
  int maxLineBytes;

  @Option(
      names = "--queue-events",
      paramLabel = "N",
      defaultValue = "4096",
      description =
          "Events queued per client before its runs pause (or drop, per run) (default: ${DEFAULT-VALUE}).")
  int queueEvents;

  @Option(
      names = "--write-timeout",
      paramLabel = "<seconds>",
      defaultValue = "60",
      description =
          "Disconnect a client that leaves written data unread this long; its runs are cancelled "
              + "(default: ${DEFAULT-VALUE}).")
  int writeTimeoutSeconds;

  @Option(
      names = "--allow-origin",
      paramLabel = "<origin>",
      description =
          "A browser origin (for example http://dashboard.example:8080) allowed to open the WebSocket "
              + "besides this host's own; others get 403. Repeatable.")
  List<String> allowedOrigins = new ArrayList<>();

  @Option(
      names = "--log-level",
      paramLabel = "<level>",
      defaultValue = "info",
      description =
          "The server log's level on standard error: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  LogLevel logLevel;

  /** Levels of the server log. */
  enum LogLevel {
    error,
    warn,
    info,
    debug,
    trace,
    off
  }

  @Override
  public Integer call() throws Exception {
    // Before the first server log line creates the logger (slf4j-simple reads its level then).
    System.setProperty("org.slf4j.simpleLogger.log." + ServerLog.NAME, logLevel.name());
    String token = tokenFile == null ? null : readToken();
    if (writeTimeoutSeconds <= 0) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--write-timeout: " + writeTimeoutSeconds + " (expected: a positive number of seconds)");
    }
    ServerSettings settings;
    try {
      settings =
          new ServerSettings(
              host,
              port,
              token,
              maxRuns,
              maxLineBytes,
              queueEvents,
              Duration.ofSeconds(1),
              0,
              Duration.ofSeconds(writeTimeoutSeconds),
              allowedOrigins,
              HostMemoryBudget.budgetBytes());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--" + optionName(e.getMessage()));
    }
    ControlServer server;
    try {
      server = new ControlServer(settings);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    int boundPort;
    try {
      boundPort = server.start();
    } catch (IllegalStateException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "mmuemu-serve-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "mmuemu serve: listening on %s:%d (JSON lines; WebSocket /stream; GET /metrics, /health)%s%n",
        host, boundPort, token == null ? "" : "; clients must send the token in hello");
    out.flush();
    server.awaitClose();
    return ExitCodes.OK;
  }

  private String readToken() {
    String token;
    try {
      token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--token-file " + tokenFile + ": cannot read (" + e.getMessage() + ")");
    }
    if (token.isEmpty()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--token-file " + tokenFile + ": empty (expected: a secret on its first line)");
    }
    int tokenBytes = token.getBytes(StandardCharsets.UTF_8).length;
    if (tokenBytes < ServerSettings.MIN_TOKEN_BYTES) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--token-file "
              + tokenFile
              + ": the token is "
              + tokenBytes
              + " bytes (expected: at least "
              + ServerSettings.MIN_TOKEN_BYTES
              + ", a secret that cannot be guessed: head -c 32 /dev/urandom | base64 > "
              + tokenFile
              + ")");
    }
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(tokenFile);
      if (permissions.contains(PosixFilePermission.GROUP_READ)
          || permissions.contains(PosixFilePermission.OTHERS_READ)) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(
            "serve: warning: --token-file "
                + tokenFile
                + " is readable by other users (chmod 600 it)");
        err.flush();
      }
    } catch (UnsupportedOperationException | IOException e) {
      // Not a POSIX file system: nothing to check.
    }
    return token;
  }

  /** Turns a settings message ({@code maxRuns: 0 (expected ...)}) into the flag's spelling. */
  private static String optionName(String message) {
    return message
        .replaceFirst("^maxRuns", "max-runs")
        .replaceFirst("^maxLineBytes", "max-line-bytes")
        .replaceFirst("^queueEvents", "queue-events");
  }
}
