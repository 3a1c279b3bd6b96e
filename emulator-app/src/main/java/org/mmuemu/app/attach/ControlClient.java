package org.mmuemu.app.attach;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A blocking client of the control port's JSON-lines protocol: one socket, one request line written
 * at a time, responses read in order. Used by {@code mmuemu attach}. Not thread-safe.
 */
final class ControlClient implements Closeable {
  /** Parses responses; floats keep their exact text. */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  private final Socket socket;
  private final BufferedReader in;
  private final BufferedWriter out;

  /**
   * Connects.
   *
   * @throws IOException when the server cannot be reached
   */
  ControlClient(String host, int port, int connectTimeoutMillis) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
    in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8), 1 << 16);
    out =
        new BufferedWriter(
            new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8));
  }

  /** Sends one request as a line. */
  void send(ObjectNode request) throws IOException {
    out.write(MAPPER.writeValueAsString(request));
    out.write('\n');
    out.flush();
  }

  /** The next response line, or null when the server closed the connection. */
  String readLine() throws IOException {
    return in.readLine();
  }

  /** Parses a response line. */
  static JsonNode parse(String line) throws IOException {
    try {
      return MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IOException(
          "the server sent a line that is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Reads responses until one answers {@code id} with a type other than event or progress. */
  JsonNode awaitReply(long id) throws IOException {
    while (true) {
      String line = readLine();
      if (line == null) {
        throw new IOException("the server closed the connection");
      }
      JsonNode node = parse(line);
      JsonNode nodeId = node.get("id");
      if (nodeId != null
          && (nodeId.isNull() || (nodeId.canConvertToLong() && nodeId.longValue() == id))) {
        return node;
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
