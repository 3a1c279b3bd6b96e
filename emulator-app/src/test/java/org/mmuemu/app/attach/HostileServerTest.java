package org.mmuemu.app.attach;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.mmuemu.app.Main;

/**
 * {@code attach} prints what a server sends: a hostile or compromised server must not be able to
 * send escape sequences to the user's terminal through it.
 */
final class HostileServerTest {
  @Test
  void serverMessages_areShownEscaped() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> server =
          CompletableFuture.runAsync(
              () -> {
                try (Socket socket = listener.accept()) {
                  BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                  OutputStream out = socket.getOutputStream();
                  in.readLine(); // hello
                  out.write("{\"id\":0,\"type\":\"hello\"}\n".getBytes(StandardCharsets.UTF_8));
                  in.readLine(); // run
                  out.write(
                      ("{\"id\":1,\"type\":\"progress\",\"events\":\"\\u001b]0;x\\u0007\",\"dropped\":0,"
                              + "\"wallSeconds\":1}\n{\"id\":1,\"type\":\"error\",\"code\":\"bad_input\","
                              + "\"message\":\"\\u001b[2Jgone\"}\n")
                          .getBytes(StandardCharsets.UTF_8));
                  out.flush();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      StringWriter err = new StringWriter();
      int code =
          Main.execute(
              new String[] {
                "attach",
                "--port",
                Integer.toString(listener.getLocalPort()),
                "run",
                "--machine",
                "arm64-neoverse-n1",
                "--workload",
                "stream"
              },
              new PrintWriter(new StringWriter(), true),
              new PrintWriter(err, true));
      server.get();

      assertThat(code).isEqualTo(2);
      assertThat(err.toString())
          .doesNotContain("\u001b")
          .doesNotContain("\u0007")
          .contains("attach: \\x1b]0;x\\x07 events")
          .contains("attach: \\x1b[2Jgone");
    }
  }
}
