package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mmuemu.app.Main;

/**
 * {@code mmuemu serve} as users start it, from the shaded jar in its own process: it prints where
 * it listens, serves an {@code attach}, and stops cleanly on SIGTERM.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
final class ServeCommandIT {
  private static final Path JAR = Paths.get("target", "mmuemu.jar");
  private static final Pattern LISTENING =
      Pattern.compile("mmuemu serve: listening on 127\\.0\\.0\\.1:(\\d+) .*");

  @Test
  void serveFromTheJar_servesAnAttach_andStopsOnSigterm() throws Exception {
    List<String> log = serveOneAttach("info");

    // One line per connection and run, with ISO-8601 times, on standard error.
    String time =
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO mmuemu\\.serve - ";
    assertThat(log)
        .anyMatch(
            line ->
                line.matches(time + "client connected remote=127\\.0\\.0\\.1:\\d+ protocol=lines"))
        .anyMatch(
            line ->
                line.matches(
                    time
                        + "run accepted remote=127\\.0\\.0\\.1:\\d+ id=\"1\" "
                        + "machine=\"arm64-neoverse-n1\" workload=\"stream\""))
        .anyMatch(
            line ->
                line.matches(time + "run ended .* outcome=ok events=0 dropped=0 wallMillis=\\d+"))
        .anyMatch(
            line ->
                line.matches(
                    time + "client disconnected remote=127\\.0\\.0\\.1:\\d+ runsCancelled=0"));
  }

  @Test
  void logLevelWarn_logsNoConnectionsOrRuns() throws Exception {
    assertThat(serveOneAttach("warn")).noneMatch(line -> line.contains("mmuemu.serve"));
  }

  /** Starts serve from the jar, runs one attach, stops it with SIGTERM; returns all it printed. */
  private static List<String> serveOneAttach(String logLevel) throws Exception {
    Path output = Files.createTempFile("serve", ".txt");
    Process process =
        new ProcessBuilder(
                List.of(
                    Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar",
                    JAR.toString(),
                    "serve",
                    "--port",
                    "0",
                    "--log-level",
                    logLevel))
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    try {
      String first = "";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!first.endsWith("\n") && System.nanoTime() < deadline) {
        Thread.sleep(20);
        first = Files.readString(output);
      }
      first = first.lines().findFirst().orElse("");
      Matcher listening = LISTENING.matcher(first);
      assertThat(listening.matches()).as("first line: %s", first).isTrue();

      StringWriter attachOut = new StringWriter();
      StringWriter attachErr = new StringWriter();
      int code =
          Main.execute(
              new String[] {
                "attach",
                "--port",
                listening.group(1),
                "run",
                "--machine",
                "arm64-neoverse-n1",
                "--workload",
                "stream",
                "--param",
                "accesses=100",
                "-q"
              },
              new PrintWriter(attachOut, true),
              new PrintWriter(attachErr, true));

      assertThat(code).as(attachErr.toString()).isZero();
      assertThat(attachOut.toString()).contains("\"name\": \"stream\"");
      // The server logs the disconnect as the client goes.
      Thread.sleep(500);
    } finally {
      process.destroy();
    }
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    try {
      return Files.readAllLines(output);
    } finally {
      Files.delete(output);
    }
  }
}
