package org.mmuemu.app.attach;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmuemu attach}: a client of a running {@code mmuemu serve}. The connection options live
 * here; {@code run} and {@code list} are its subcommands.
 */
@Command(
    name = "attach",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Connect to a control port (mmuemu serve): start a run there and stream its events, or list what "
            + "it offers.",
    subcommands = {AttachRunCommand.class, AttachCommand.ListOp.class},
    footer = {
      "",
      "Example:",
      "  mmuemu attach --port 7878 run --machine arm64-neoverse-n1 --workload stream "
          + "--events walk,fault --out events.jsonl"
    })
public final class AttachCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(
      names = "--host",
      paramLabel = "<address>",
      defaultValue = "127.0.0.1",
      description = "The server's address (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "<port>",
      defaultValue = "7878",
      description = "The server's port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--token-file",
      paramLabel = "<file>",
      description = "A file holding the server's token (surrounding whitespace ignored).")
  Path tokenFile;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a request is required (run, list)");
  }

  /**
   * Connects and says hello (with the token when one is given).
   *
   * @throws CommandLine.ParameterException for a bad token file, an unreachable server or a refused
   *     token: bad input, exit code 2
   */
  ControlClient connect(CommandLine failing) throws IOException {
    String token = null;
    if (tokenFile != null) {
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new CommandLine.ParameterException(
            failing, "--token-file " + tokenFile + ": cannot read (" + e.getMessage() + ")");
      }
    }
    ControlClient client;
    try {
      client = new ControlClient(host, port, 5000);
    } catch (IOException e) {
      throw new CommandLine.ParameterException(
          failing,
          "--host " + host + " --port " + port + ": cannot connect (" + e.getMessage() + ")");
    }
    ObjectNode hello = ControlClient.MAPPER.createObjectNode();
    hello.put("id", 0);
    hello.put("op", "hello");
    if (token != null) {
      hello.put("token", token);
    }
    client.send(hello);
    JsonNode reply = client.awaitReply(0);
    if ("error".equals(reply.path("type").asText())) {
      client.close();
      throw new CommandLine.ParameterException(
          failing,
          (tokenFile == null ? "" : "--token-file " + tokenFile + ": ")
              + "the server refused hello: "
              + reply.path("message").asText());
    }
    return client;
  }

  /** {@code mmuemu attach list}: what the server offers, as JSON. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Print the server's machines, workloads, scenarios and event kinds as JSON.")
  static final class ListOp implements Callable<Integer> {
    @Spec CommandSpec spec;

    @CommandLine.ParentCommand AttachCommand parent;

    @Override
    public Integer call() throws Exception {
      try (ControlClient client = parent.connect(spec.commandLine())) {
        ObjectNode request = ControlClient.MAPPER.createObjectNode();
        request.put("id", 1);
        request.put("op", "list");
        client.send(request);
        JsonNode reply = client.awaitReply(1);
        PrintWriter out = spec.commandLine().getOut();
        out.println(
            ControlClient.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(reply));
        out.flush();
        return "error".equals(reply.path("type").asText())
            ? ExitCodes.INTERNAL_ERROR
            : ExitCodes.OK;
      }
    }
  }
}
