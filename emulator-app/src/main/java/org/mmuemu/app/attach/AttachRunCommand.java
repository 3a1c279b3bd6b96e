package org.mmuemu.app.attach;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mmuemu.app.runner.ExitCodes;
import org.mmuemu.configs.ResultJson;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.configs.io.OutputFileException;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.text.TerminalText;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mmuemu attach run}: starts a run on the server, prints (or writes) its events as they
 * arrive, then prints the result JSON exactly as {@code mmuemu run --json} would, and exits with
 * {@code mmuemu run}'s codes: 0 no violation, 1 violations, 2 bad input (flags, config, parameters,
 * an unreachable server or a refused token), 3 anything else (the server busy, the run cancelled,
 * the connection lost, a server error).
 *
 * <p>Events are written in the trace writer's form ({@code mmuemu run --trace}), one JSON object
 * per line, so a file written with {@code --out} equals the trace of the same run.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = "Run a workload on the server and stream its events; then print the result JSON.")
final class AttachRunCommand implements Callable<Integer> {
  private static final long RUN_ID = 1;

  @Spec CommandSpec spec;

  @ParentCommand AttachCommand parent;

  @Option(
      names = "--machine",
      required = true,
      paramLabel = "<name|file>",
      description =
          "A built-in machine of the server, or a config file here (sent inline; its 'extends' may name "
              + "built-in machines only).")
  String machine;

  @Option(
      names = "--workload",
      required = true,
      paramLabel = "<name>",
      description = "The workload.")
  String workload;

  @Option(
      names = "--param",
      paramLabel = "name=value",
      description = "A workload parameter. Repeatable.")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(
      names = "--set",
      paramLabel = "/pointer=value",
      description = "Override one config value. Repeatable.")
  List<String> overrides = new ArrayList<>();

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description = "The run's seed (default: 1).")
  long seed;

  @Option(
      names = "--events",
      paramLabel = "<kinds>",
      split = ",",
      description = "Event kinds to stream, comma-separated, or 'all' (default: none).")
  List<String> events = new ArrayList<>();

  @Option(
      names = "--sample",
      paramLabel = "N",
      defaultValue = "1",
      description = "Stream one matching event in N (default: 1, every one).")
  long sample;

  @Option(
      names = "--on-slow-client",
      paramLabel = "pause|drop",
      defaultValue = "pause",
      description =
          "When this client reads too slowly: pause the run (nothing lost) or drop events (counted) "
              + "(default: ${DEFAULT-VALUE}).")
  String onSlowClient;

  @Option(
      names = "--out",
      paramLabel = "<file>",
      description =
          "Write the events to this file (moved into place when the run ends) instead of standard output.")
  Path eventsOut;

  @Option(
      names = {"-q", "--quiet"},
      description = "Print no progress on standard error.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    CommandLine failing = spec.commandLine();
    PrintWriter out = failing.getOut();
    PrintWriter err = failing.getErr();
    ObjectNode request = request(failing);
    OutputFile eventsFile = null;
    Writer eventWriter = out;
    if (eventsOut != null) {
      try {
        eventsFile = OutputFile.open("--out", eventsOut);
      } catch (OutputFileException e) {
        throw new CommandLine.ParameterException(failing, e.getMessage());
      }
      eventWriter = eventsFile.writer();
    }
    try (ControlClient client = parent.connect(failing)) {
      client.send(request);
      String eventPrefix = "{\"id\":" + RUN_ID + ",\"type\":\"event\",";
      while (true) {
        String line = client.readLine();
        if (line == null) {
          err.println("attach: the server closed the connection before the run ended");
          err.flush();
          return ExitCodes.INTERNAL_ERROR;
        }
        if (line.startsWith(eventPrefix)) {
          eventWriter.append('{').append(line, eventPrefix.length(), line.length()).append('\n');
          continue;
        }
        JsonNode message = ControlClient.parse(line);
        String type = message.path("type").asText();
        switch (type) {
          case "accepted", "event" -> {}
          case "progress" -> {
            if (!quiet) {
              // What the server sends is shown escaped: it must not drive this terminal.
              err.println(
                  TerminalText.escape(
                      String.format(
                          "attach: %s events, %s dropped, %s s",
                          message.path("events").asText(),
                          message.path("dropped").asText(),
                          message.path("wallSeconds").asText())));
              err.flush();
            }
          }
          case "result" -> {
            if (eventsFile != null) {
              try {
                eventsFile.commit();
              } catch (OutputFileException e) {
                err.println(TerminalText.escape("attach: " + e.getMessage()));
                err.flush();
                return ExitCodes.BAD_INPUT;
              }
            }
            RunResult result =
                ResultJson.fromJson(ControlClient.MAPPER.writeValueAsString(message.get("result")));
            out.print(ResultJson.toJson(result));
            out.flush();
            long dropped = message.path("dropped").asLong();
            if (dropped > 0) {
              err.printf(
                  "attach: %d events dropped (this client read too slowly; --on-slow-client drop)%n",
                  dropped);
              err.flush();
            }
            return message.path("exitCode").asInt(ExitCodes.INTERNAL_ERROR);
          }
          case "error" -> {
            return reportError(message, err);
          }
          default -> {
            err.println(TerminalText.escape("attach: unexpected message from the server: " + line));
            err.flush();
          }
        }
      }
    } finally {
      if (eventsFile != null) {
        eventsFile.abort();
      }
    }
  }

  private ObjectNode request(CommandLine failing) {
    ObjectNode request = ControlClient.MAPPER.createObjectNode();
    request.put("id", RUN_ID);
    request.put("op", "run");
    Path file = Path.of(machine);
    if (Files.isRegularFile(file)) {
      try {
        request.set(
            "machine",
            ControlClient.MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new CommandLine.ParameterException(
            failing,
            "--machine "
                + machine
                + ": cannot read as JSON ("
                + e.getMessage().lines().findFirst().orElse("")
                + ")");
      }
    } else {
      request.put("machine", machine);
    }
    if (!overrides.isEmpty()) {
      ArrayNode set = request.putArray("set");
      overrides.forEach(set::add);
    }
    request.put("workload", workload);
    ObjectNode paramNode = request.putObject("params");
    params.forEach(paramNode::put);
    request.put("seed", seed);
    if (!events.isEmpty()) {
      ArrayNode kinds = request.putArray("events");
      events.forEach(kind -> kinds.add(kind.trim()));
    }
    if (sample < 1) {
      throw new CommandLine.ParameterException(failing, "--sample " + sample + " (expected: >= 1)");
    }
    request.put("sample", sample);
    if (!onSlowClient.equals("pause") && !onSlowClient.equals("drop")) {
      throw new CommandLine.ParameterException(
          failing, "--on-slow-client " + onSlowClient + " (expected: pause or drop)");
    }
    request.put("onSlowClient", onSlowClient);
    return request;
  }

  /** Prints the server's error and returns the matching exit code. */
  private static int reportError(JsonNode message, PrintWriter err) {
    String code = message.path("code").asText();
    List<String> lines = new ArrayList<>();
    message.path("problems").forEach(p -> lines.add(p.asText()));
    if (lines.isEmpty()) {
      lines.add(message.path("message").asText());
    }
    for (String line : lines) {
      err.println(TerminalText.escape("attach: " + line));
    }
    err.flush();
    return switch (code) {
      case "bad_input", "bad_request", "unauthorized" -> ExitCodes.BAD_INPUT;
      default -> ExitCodes.INTERNAL_ERROR;
    };
  }
}
