package org.mmuemu.app;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The list of runs a grid expands to ({@code plan.json}), the contract between {@code sweep
 * expand}, any number of {@code sweep run --index N} (on one host or a batch system's array of
 * tasks) and {@code sweep aggregate}. Each run is named by a hash of its resolved config, workload,
 * parameters and seed, so its result file is the same whichever task runs it and a re-run finds it
 * done.
 *
 * @param schemaVersion 1
 * @param axes the swept dimensions, as the keys of each run's {@code axes}
 */
record SweepPlan(int schemaVersion, String workload, List<String> axes, List<Run> runs) {
  static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  /**
   * One run.
   *
   * @param id the first 16 hex digits of the SHA-256 of the config hash, workload, params and seed
   * @param sets {@code --set} overrides, in grid order
   * @param axes the run's value on each swept dimension (machine and seed included)
   */
  record Run(
      int index,
      String id,
      String machine,
      String configSha256,
      List<String> sets,
      Map<String, String> params,
      long seed,
      Map<String, String> axes) {

    /** Where this run's result goes in {@code outDir}. */
    Path resultFile(Path outDir) {
      return outDir.resolve(id + ".json");
    }
  }

  static String runId(String configSha256, String workload, Map<String, String> params, long seed) {
    StringBuilder text = new StringBuilder(configSha256).append('\n').append(workload).append('\n');
    new TreeMap<>(params)
        .forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
    text.append(seed);
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  static SweepPlan read(Path file) throws UserInputException {
    try {
      SweepPlan plan = JSON.readValue(Files.readString(file), SweepPlan.class);
      if (plan.schemaVersion() != 1 || plan.runs() == null || plan.workload() == null) {
        throw new UserInputException(
            "--plan "
                + file
                + ": not a sweep plan of schema version 1 (write one with "
                + "'mmuemu sweep expand')");
      }
      return plan;
    } catch (IOException e) {
      throw new UserInputException(
          "--plan "
              + file
              + ": cannot read a sweep plan ("
              + e.getMessage().lines().findFirst().orElse("")
              + ")");
    }
  }

  String toJson() throws IOException {
    return JSON.writeValueAsString(this) + "\n";
  }
}
