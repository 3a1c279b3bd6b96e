package org.mmuemu.configs;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.mmuemu.configs.io.OutputFile;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.result.RunResult;

/**
 * Writes and reads result JSON ({@code configs/schema/result.schema.json}, schema version 1).
 *
 * <p>The output is deterministic: record members in declaration order, 2-space indent, {@code "\n"}
 * line ends, a trailing newline. Maps keep their order when they have one ({@link SortedMap},
 * {@link LinkedHashMap}: the TLB levels stay in lookup order) and are sorted by key otherwise, so a
 * {@code Map.of} or {@code HashMap} never makes two runs differ. Kernel counters come out as plain
 * JSON numbers and nested maps as objects. A double that is not finite is written as {@code null}.
 *
 * <p>{@link #writeAtomically} never leaves a half-written result: the JSON is rendered in memory,
 * then written through {@link OutputFile}. Stateless and thread-safe.
 */
public final class ResultJson {
  private ResultJson() {}

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_LONG_FOR_INTS)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .addModule(
              new SimpleModule("mmuemu-result")
                  .addSerializer(new OrderedMapSerializer())
                  .addSerializer(Double.class, new FiniteDoubleSerializer())
                  .addSerializer(Double.TYPE, new FiniteDoubleSerializer()))
          .build();

  private static final ObjectWriter WRITER = MAPPER.writer(JsonSupport.prettyPrinter());

  /**
   * Renders a result.
   *
   * @return pretty JSON ending in a newline
   * @throws IllegalArgumentException when some value in the result cannot be written as JSON
   */
  public static String toJson(RunResult result) {
    try {
      return WRITER.writeValueAsString(result) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "result cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Writes a result to {@code target} as {@code --out} does ({@link OutputFile}): a regular file
   * atomically (readers see the old file or the whole new one; a failure leaves the target as it
   * was and no temporary file behind), a device or FIFO streamed to.
   *
   * @throws IOException (an {@link org.mmuemu.configs.io.OutputFileException}, one line naming
   *     {@code --out} and the path) when the directory cannot be written or the rename fails
   * @throws IllegalArgumentException when the result cannot be written as JSON (nothing is written
   *     then)
   */
  public static void writeAtomically(RunResult result, Path target) throws IOException {
    writeStringAtomically(toJson(result), target);
  }

  /** Writes text to {@code target} with the same guarantees as {@link #writeAtomically}. */
  public static void writeStringAtomically(String text, Path target) throws IOException {
    OutputFile.write("--out", target, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Reads a result written by {@link #toJson}: whole numbers in {@code kernel} come back as {@link
   * Long}, nested objects as maps in file order.
   *
   * @throws IllegalArgumentException naming the place when the text is not a result
   */
  public static RunResult fromJson(String json) {
    try {
      return MAPPER.readValue(json, RunResult.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "not a result: "
              + e.getOriginalMessage()
              + (e.getLocation() == null
                  ? ""
                  : " (line "
                      + e.getLocation().getLineNr()
                      + ", column "
                      + e.getLocation().getColumnNr()
                      + ")"),
          e);
    }
  }

  /**
   * Checks JSON text against the result schema.
   *
   * @return every problem, one per line as {@code /pointer: found (expected: ...)}; empty when the
   *     text is a valid result
   */
  public static List<ConfigProblem> validate(String json) {
    JsonNode node;
    try {
      node = JsonSupport.parse(json, "result");
    } catch (JsonSupport.SyntaxException e) {
      return List.of(e.problem);
    }
    List<ConfigProblem> problems = new ArrayList<>(SchemaCheck.result().validate(node));
    problems.sort(Comparator.comparing(ConfigProblem::pointer, Pointers.ORDER));
    return List.copyOf(problems);
  }

  /** Writes maps in their own order when they have one, else sorted by key. */
  @SuppressWarnings("rawtypes")
  private static final class OrderedMapSerializer extends StdSerializer<Map> {
    private static final long serialVersionUID = 1L;

    OrderedMapSerializer() {
      super(Map.class);
    }

    @Override
    public void serialize(Map map, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      List<Map.Entry<?, ?>> entries = new ArrayList<>();
      for (Object e : map.entrySet()) {
        entries.add((Map.Entry<?, ?>) e);
      }
      if (!(map instanceof SortedMap) && !(map instanceof LinkedHashMap)) {
        entries.sort((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
      }
      gen.writeStartObject(map);
      for (Map.Entry<?, ?> entry : entries) {
        gen.writeFieldName(String.valueOf(entry.getKey()));
        provider.defaultSerializeValue(entry.getValue(), gen);
      }
      gen.writeEndObject();
    }

    @Override
    public boolean isEmpty(SerializerProvider provider, Map value) {
      return value == null || value.isEmpty();
    }
  }

  /** Writes finite doubles as numbers and NaN or infinities as null (JSON has no such numbers). */
  private static final class FiniteDoubleSerializer extends StdSerializer<Double> {
    private static final long serialVersionUID = 1L;

    FiniteDoubleSerializer() {
      super(Double.class);
    }

    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      if (value == null || !Double.isFinite(value)) {
        gen.writeNull();
      } else {
        gen.writeNumber(value);
      }
    }
  }
}
