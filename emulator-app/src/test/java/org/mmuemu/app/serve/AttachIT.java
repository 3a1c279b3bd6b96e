package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.Main;
import org.mmuemu.configs.ResultJson;

/**
 * {@code mmuemu attach run} against a real server on loopback gives what {@code mmuemu run} gives
 * for the same inputs: the same result JSON (outside {@code host}), the same events as the trace
 * writer, the same exit codes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class AttachIT {
  private record Outcome(int exitCode, String out, String err) {}

  private ControlServer server;
  private int port;

  @BeforeEach
  void start() throws Exception {
    server = new ControlServer(ServerSettings.defaults().withPort(0));
    port = server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Outcome mmuemu(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Outcome(code, out.toString(), err.toString());
  }

  private static String withoutHost(String resultJson) {
    return ResultJson.toJson(ResultJson.fromJson(resultJson).withHost(null));
  }

  @Test
  void attachRun_streamsTheTraceAndTheResultOfMmuemuRun(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("trace.jsonl");
    Path events = dir.resolve("events.jsonl");
    List<String> common =
        List.of("--machine", "x86-skylake", "--workload", "munmap-storm", "--seed", "5");

    Outcome local =
        mmuemu(
            concat(
                List.of("run"),
                common,
                List.of(
                    "--json",
                    "-q",
                    "--trace",
                    trace.toString(),
                    "--trace-events",
                    "invalidate,ipi.send,ipi.receive,kernel.call")));
    Outcome remote =
        mmuemu(
            concat(
                List.of("attach", "--port", Integer.toString(port), "run"),
                common,
                List.of(
                    "--events",
                    "invalidate,ipi.send,ipi.receive,kernel.call",
                    "--out",
                    events.toString(),
                    "-q")));

    assertThat(remote.exitCode()).as(remote.err()).isEqualTo(local.exitCode());
    assertThat(withoutHost(remote.out())).isEqualTo(withoutHost(local.out()));
    assertThat(Files.readAllLines(events)).isNotEmpty().isEqualTo(Files.readAllLines(trace));
  }

  @Test
  void attachRun_eventsToStandardOutput_beforeTheResult() {
    Outcome remote =
        mmuemu(
            "attach",
            "--port",
            Integer.toString(port),
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "stream",
            "--param",
            "accesses=100",
            "--events",
            "fault",
            "-q");

    assertThat(remote.exitCode()).as(remote.err()).isZero();
    List<String> lines = remote.out().lines().toList();
    assertThat(lines.get(0)).startsWith("{\"cycle\":").contains("\"kind\":\"fault\"");
    assertThat(lines.get(lines.indexOf("{") - 1)).contains("\"kind\":\"fault\"");
    assertThat(remote.out().substring(remote.out().indexOf("\n{\n") + 1))
        .startsWith("{\n  \"schemaVersion\": 1");
  }

  @Test
  void attachRun_badParameter_exits2WithTheServersMessage() {
    Outcome remote =
        mmuemu(
            "attach",
            "--port",
            Integer.toString(port),
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "stream",
            "--param",
            "accesses=-5");

    assertThat(remote.exitCode()).isEqualTo(2);
    assertThat(remote.err()).startsWith("attach: /params/accesses=-5");
  }

  @Test
  void attachRun_inlineConfigFromTheClientsDisk_runs(@TempDir Path dir) throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("small.json"),
            "{\"name\":\"small\",\"extends\":\"arm64-neoverse-n1\",\"cores\":2}");

    Outcome remote =
        mmuemu(
            "attach",
            "--port",
            Integer.toString(port),
            "run",
            "--machine",
            config.toString(),
            "--workload",
            "stream",
            "--param",
            "accesses=100",
            "-q");

    assertThat(remote.exitCode()).as(remote.err()).isZero();
    assertThat(ResultJson.fromJson(remote.out()).machine().cores()).isEqualTo(2);
  }

  @Test
  void attach_noServer_orWrongToken_exits2() throws Exception {
    server.close();
    Outcome unreachable =
        mmuemu(
            "attach",
            "--port",
            Integer.toString(port),
            "run",
            "--machine",
            "arm64-neoverse-n1",
            "--workload",
            "stream");
    assertThat(unreachable.exitCode()).isEqualTo(2);
    assertThat(unreachable.err()).contains("cannot connect");

    server =
        new ControlServer(
            ServerSettings.defaults().withPort(0).withToken("right-token-0123456789"));
    port = server.start();
    Path token = Files.createTempFile("token", ".txt");
    try {
      Files.writeString(token, "wrong-token-0123456789\n");
      Outcome refused =
          mmuemu(
              "attach",
              "--port",
              Integer.toString(port),
              "--token-file",
              token.toString(),
              "run",
              "--machine",
              "arm64-neoverse-n1",
              "--workload",
              "stream");
      assertThat(refused.exitCode()).isEqualTo(2);
      assertThat(refused.err()).contains("the server refused hello: /token: wrong token");

      // The server holds this address to a delay after a wrong token.
      Thread.sleep(AuthThrottle.FIRST_DELAY_NANOS / 1_000_000 + 50);
      Files.writeString(token, "right-token-0123456789\n");
      Outcome accepted =
          mmuemu(
              "attach",
              "--port",
              Integer.toString(port),
              "--token-file",
              token.toString(),
              "run",
              "--machine",
              "arm64-neoverse-n1",
              "--workload",
              "stream",
              "--param",
              "accesses=100",
              "-q");
      assertThat(accepted.exitCode()).as(accepted.err()).isZero();
    } finally {
      Files.delete(token);
    }
  }

  @SafeVarargs
  private static String[] concat(List<String>... parts) {
    return java.util.Arrays.stream(parts).flatMap(List::stream).toArray(String[]::new);
  }
}
