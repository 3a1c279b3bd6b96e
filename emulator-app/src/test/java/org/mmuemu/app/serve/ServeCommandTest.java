package org.mmuemu.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.app.Main;
import org.mmuemu.app.runner.ExitCodes;

/**
 * The security rules of {@code mmuemu serve} that hold before anything is bound: a non-loopback
 * address needs a token, a token file must hold one; bad flags exit 2 naming the flag.
 */
final class ServeCommandTest {
  private record Outcome(int exitCode, String err) {}

  private static Outcome serve(String... args) {
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = "serve";
    System.arraycopy(args, 0, all, 1, args.length);
    int code =
        Main.execute(all, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    return new Outcome(code, err.toString());
  }

  @Test
  void nonLoopbackHost_withoutToken_exits2NamingTheFlag() {
    Outcome outcome = serve("--host", "0.0.0.0", "--port", "0");

    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err())
        .startsWith("serve: --host 0.0.0.0: not a loopback address, so a token is required");
  }

  @Test
  void emptyTokenFile_exits2(@TempDir Path dir) throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "  \n");

    Outcome outcome = serve("--token-file", token.toString(), "--port", "0");

    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("--token-file " + token + ": empty");
  }

  @Test
  void maxRunsZero_exits2() {
    Outcome outcome = serve("--max-runs", "0", "--port", "0");

    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.err()).contains("--max-runs: 0 (expected: 1 to 1024)");
  }

  @Test
  void controlServer_nonLoopbackWithoutToken_refused_withTokenAllowed() {
    assertThatThrownBy(() -> new ControlServer(ServerSettings.defaults().withHost("0.0.0.0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("token is required");
    new ControlServer(
            ServerSettings.defaults().withHost("0.0.0.0").withToken("a-token-of-16-bytes"))
        .close();
  }

  @Test
  void tokenFileReadableByOthers_warns(@TempDir Path dir) throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "s3cret-0123456789abcdef\n");
    Files.setPosixFilePermissions(
        token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

    // --max-runs 0 stops the command after the token is read, before anything is bound.
    Outcome outcome = serve("--token-file", token.toString(), "--max-runs", "0");

    assertThat(outcome.err())
        .contains("warning: --token-file " + token + " is readable by other users");

    Files.setPosixFilePermissions(
        token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertThat(serve("--token-file", token.toString(), "--max-runs", "0").err())
        .doesNotContain("warning");
  }

  @Test
  void shortToken_refusedAtStart(@TempDir Path dir) throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "hunter2\n");
    Files.setPosixFilePermissions(
        token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    Outcome outcome = serve("--token-file", token.toString(), "--port", "0");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .startsWith(
            "serve: --token-file " + token + ": the token is 7 bytes (expected: at " + "least 16");
    assertThatThrownBy(() -> ServerSettings.defaults().withToken("hunter2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("token: 7 bytes (expected: at least 16");
  }

  @Test
  void zeroWriteTimeout_isBadInput() {
    Outcome outcome = serve("--write-timeout", "0", "--port", "0");

    assertThat(outcome.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    assertThat(outcome.err())
        .startsWith("serve: --write-timeout: 0 (expected: a positive number of seconds)");
  }
}
