package org.mmuemu.app.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The control protocol's message forms: every response is one JSON object on one line, {@code
 * {"id":<the request's id>,"type":"<type>",...}}; errors are {@code
 * {"id":...,"type":"error","code":"<code>","message":"<one line>"}}, with {@code "id":null} when
 * the line could not be parsed far enough to find one. Stateless and thread-safe.
 */
public final class Messages {
  /** The protocol version reported by {@code hello}. */
  public static final int PROTOCOL_VERSION = 1;

  /** Error codes. */
  public static final String MALFORMED = "malformed";

  public static final String BAD_REQUEST = "bad_request";
  public static final String UNKNOWN_OP = "unknown_op";
  public static final String UNAUTHORIZED = "unauthorized";
  public static final String LINE_TOO_LONG = "line_too_long";
  public static final String BUSY = "busy";
  public static final String BAD_INPUT = "bad_input";
  public static final String CANCELLED = "cancelled";
  public static final String UNKNOWN_RUN = "unknown_run";
  public static final String INTERNAL = "internal";

  /**
   * Parses and writes protocol JSON; floats keep their exact text, so a result passed through keeps
   * the digits {@code mmuemu run} wrote. Duplicate keys and trailing tokens are errors.
   */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  private Messages() {}

  /** A response of {@code type} answering {@code id} (null for none). */
  static ObjectNode reply(JsonNode id, String type) {
    ObjectNode node = MAPPER.createObjectNode();
    node.set("id", id == null ? NullNode.getInstance() : id);
    node.put("type", type);
    return node;
  }

  /** An error response, one line. */
  static String error(JsonNode id, String code, String message) {
    ObjectNode node = reply(id, "error");
    node.put("code", code);
    node.put("message", message);
    return text(node);
  }

  /** An error response with every problem line (config errors report all at once). */
  static String error(JsonNode id, String code, List<String> problems) {
    ObjectNode node = reply(id, "error");
    node.put("code", code);
    node.put("message", problems.isEmpty() ? code : problems.get(0));
    node.putArray("problems")
        .addAll(problems.stream().map(JsonNodeFactory.instance::textNode).toList());
    return text(node);
  }

  /** The compact one-line text of a message. */
  static String text(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree always serializes", e);
    }
  }

  /** Reads the JSON text of a result (pretty, as {@code mmuemu run} writes it) as a tree. */
  static JsonNode tree(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "the result JSON did not parse: " + e.getOriginalMessage(), e);
    }
  }
}
