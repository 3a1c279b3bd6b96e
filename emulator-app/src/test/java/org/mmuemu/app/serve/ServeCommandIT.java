package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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
 * {@code mmuemu serve} as users start it, from the shaded jar in its own process: it prints
 * where it listens, serves an {@code attach}, and stops cleanly on SIGTERM.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
final class ServeCommandIT {
  private static final Path JAR = Paths.get("target", "mmuemu.jar");
  private static final Pattern LISTENING = Pattern.compile("mmuemu serve: listening on 127\\.0\\.0\\.1:(\\d+) .*");

  @Test
  void serveFromTheJar_servesAnAttach_andStopsOnSigterm() throws Exception {
    Process process = new ProcessBuilder(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", JAR.toString(), "serve", "--port", "0")).redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String first = out.readLine();
      Matcher listening = LISTENING.matcher(first == null ? "" : first);
      assertThat(listening.matches()).as("first line: %s", first).isTrue();

      StringWriter attachOut = new StringWriter();
      StringWriter attachErr = new StringWriter();
      int code = Main.execute(new String[] {"attach", "--port", listening.group(1), "run", "--machine",
          "arm64-neoverse-n1", "--workload", "stream", "--param", "accesses=100", "-q"},
          new PrintWriter(attachOut, true), new PrintWriter(attachErr, true));

      assertThat(code).as(attachErr.toString()).isZero();
      assertThat(attachOut.toString()).contains("\"name\": \"stream\"");
    } finally {
      process.destroy();
    }
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
  }
}
