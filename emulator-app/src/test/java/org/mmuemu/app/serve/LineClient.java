package org.mmuemu.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A raw JSON-lines client on a real loopback socket, with a read timeout so no test hangs. */
final class LineClient implements AutoCloseable {
  final Socket socket;
  private final BufferedReader in;
  private final OutputStream out;

  LineClient(int port) throws IOException {
    this(port, 0);
  }

  /**
   * @param receiveBufferBytes the socket's receive buffer, or 0 for the OS default
   */
  LineClient(int port, int receiveBufferBytes) throws IOException {
    socket = new Socket();
    if (receiveBufferBytes > 0) {
      socket.setReceiveBufferSize(receiveBufferBytes);
    }
    socket.setSoTimeout(30_000);
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8), 4096);
    out = socket.getOutputStream();
  }

  void send(String line) throws IOException {
    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  String readLine() throws IOException {
    return in.readLine();
  }

  JsonNode read() throws IOException {
    String line = readLine();
    if (line == null) {
      throw new IOException("connection closed");
    }
    return Messages.MAPPER.readTree(line);
  }

  /** What a run sent: its event lines (text) and the message that ended it. */
  record RunOutput(List<String> events, List<JsonNode> progress, JsonNode end) {}

  /** Reads until the run {@code id} ends (result or error), keeping its events. */
  RunOutput readRun(int id) throws IOException {
    String eventPrefix = "{\"id\":" + id + ",\"type\":\"event\",";
    List<String> events = new ArrayList<>();
    List<JsonNode> progress = new ArrayList<>();
    while (true) {
      String line = readLine();
      if (line == null) {
        throw new IOException(
            "connection closed before run " + id + " ended; " + events.size() + " events");
      }
      if (line.startsWith(eventPrefix)) {
        events.add(line);
        continue;
      }
      JsonNode node = Messages.MAPPER.readTree(line);
      if (node.path("id").asInt(-1) != id) {
        continue;
      }
      String type = node.path("type").asText();
      if (type.equals("progress")) {
        progress.add(node);
      } else if (type.equals("result") || type.equals("error")) {
        return new RunOutput(events, progress, node);
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
