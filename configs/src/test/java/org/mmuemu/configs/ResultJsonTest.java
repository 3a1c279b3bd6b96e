package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.oracle.Violation;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.result.RunResult.Cycles;
import org.mmuemu.core.result.RunResult.Host;
import org.mmuemu.core.result.RunResult.LatencySummary;
import org.mmuemu.core.result.RunResult.MachineInfo;
import org.mmuemu.core.result.RunResult.Maintenance;
import org.mmuemu.core.result.RunResult.TlbCounts;
import org.mmuemu.core.result.RunResult.Walks;
import org.mmuemu.core.result.RunResult.WorkloadInfo;

/** Result JSON: field order, determinism, round trip, the result schema, and atomic writes. */
final class ResultJsonTest {
  @TempDir Path dir;

  static RunResult sample(Map<String, Object> kernel, Host host) {
    Map<String, TlbCounts> tlb = new LinkedHashMap<>();
    tlb.put("l1i", new TlbCounts(10, 9, 1));
    tlb.put("l1d", new TlbCounts(20, 15, 5));
    tlb.put("l2", new TlbCounts(6, 4, 2));
    LatencySummary walkCycles = new LatencySummary(2, 81.5, 80, 83, 83, 83, 83);
    Map<String, LatencySummary> latency =
        new TreeMap<>(
            Map.of("vmalloc", new LatencySummary(3, 1200.333, 1100, 1500, 1500, 1500, 1500)));
    return new RunResult(
        RunResult.SCHEMA_VERSION,
        new MachineInfo("arm64-neoverse-n1", "arm64", 2, "ab".repeat(32)),
        new WorkloadInfo("test_vmalloc", new TreeMap<>(Map.of("iterations", "3", "size", "4KiB"))),
        42L,
        new Cycles(5000, List.of(5000L, 4100L)),
        24L,
        tlb,
        List.of(tlb, tlb),
        new Walks(2, 7, 1, walkCycles),
        new Maintenance(new TreeMap<>(Map.of("TLBI VALE1IS", 3L)), 0, 1),
        kernel,
        latency,
        new TreeMap<>(Map.of("STALE_TLB_USE", 1L)),
        List.of(
            new Violation(
                "STALE_TLB_USE",
                1,
                4242,
                "0x7f0000001000",
                null,
                "core 1 hit a TLB entry for frame 0x1234, freed since the fill",
                List.of("c0 @100 alloc", "c0 @200 free"))),
        host);
  }

  static Map<String, Object> kernel() {
    Map<String, Object> kernel = new LinkedHashMap<>();
    kernel.put("faults", 12L);
    kernel.put("framesAllocated", 5_000_000_000L);
    kernel.put("vmalloc", Map.of("purges", 1L, "calls", 3L, "areas", 2L, "lazyPages", 512L));
    return kernel;
  }

  @Test
  void toJson_writesRecordComponentsInDeclarationOrder() throws IOException {
    JsonNode node = JsonSupport.STRICT.readTree(ResultJson.toJson(sample(kernel(), null)));

    List<String> expected =
        Arrays.stream(RunResult.class.getRecordComponents()).map(RecordComponent::getName).toList();
    assertThat(JsonSupport.keys(node)).isEqualTo(expected);
    assertThat(JsonSupport.keys(node.get("machine")))
        .containsExactly("name", "isa", "cores", "configSha256");
    assertThat(JsonSupport.keys(node.get("violations").get(0)))
        .containsExactly("kind", "core", "cycle", "va", "pa", "detail", "history");
    assertThat(node.get("host").isNull()).isTrue();
  }

  @Test
  void toJson_keepsOrderedMapsAndSortsUnorderedOnes() {
    String json = ResultJson.toJson(sample(kernel(), null));

    assertThat(json).containsSubsequence("\"l1i\"", "\"l1d\"", "\"l2\"");
    assertThat(json)
        .containsSubsequence("\"areas\": 2", "\"calls\": 3", "\"lazyPages\": 512", "\"purges\": 1");
    assertThat(json)
        .contains(
            "\"faults\": 12,",
            "\"framesAllocated\": 5000000000,",
            "\"va\": \"0x7f0000001000\"",
            "\"pa\": null");
  }

  @Test
  void toJson_isPrettyDeterministicAndEndsWithANewline() {
    Map<String, Object> shuffled = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      shuffled.put("counter" + i, (long) i);
    }
    String json =
        ResultJson.toJson(
            sample(shuffled, new Host(1.25, 2.0e6, "0.1.0", "21.0.4", "continuation", 42)));

    assertThat(json)
        .startsWith("{\n  \"schemaVersion\": 1,\n  \"machine\": {\n    \"name\": ")
        .endsWith("}\n")
        .doesNotContain("\r")
        .doesNotContain(" :");
    assertThat(
            ResultJson.toJson(
                sample(
                    new TreeMap<>(shuffled),
                    new Host(1.25, 2.0e6, "0.1.0", "21.0.4", "continuation", 42))))
        .isEqualTo(json);
    assertThat(json)
        .containsSubsequence("\"counter0\"", "\"counter1\"", "\"counter10\"", "\"counter2\"");
  }

  @Test
  void nonFiniteDoubles_areWrittenAsNull() {
    Map<String, Object> kernel = new LinkedHashMap<>(kernel());
    kernel.put("ratio", Double.NaN);
    String json =
        ResultJson.toJson(
            sample(
                kernel, new Host(Double.POSITIVE_INFINITY, 0, "v", "21.0.4", "continuation", 42)));

    assertThat(json).contains("\"ratio\": null", "\"wallSeconds\": null");
  }

  @Test
  void fromJson_roundTripsToAnEqualResult() {
    RunResult result =
        sample(kernel(), new Host(0.5, 1.0e7, "0.1.0-SNAPSHOT", "21.0.4", "continuation", 42));
    String json = ResultJson.toJson(result);

    RunResult back = ResultJson.fromJson(json);

    assertThat(back).isEqualTo(result);
    assertThat(ResultJson.toJson(back)).isEqualTo(json);
    assertThat(back.kernel().get("faults")).isInstanceOf(Long.class);
  }

  @Test
  void resultSchema_acceptsResultJsonOutput() {
    assertThat(ResultJson.validate(ResultJson.toJson(sample(kernel(), null)))).isEmpty();
    assertThat(
            ResultJson.validate(
                ResultJson.toJson(
                    sample(kernel(), new Host(2.5, 1e6, "0.1.0", "21.0.4", "continuation", 42)))))
        .isEmpty();
  }

  @Test
  void aResultWrittenBeforeTheHostsJavaWorkersAndHandOvers_stillReadsAndValidates() {
    String json =
        ResultJson.toJson(
                sample(kernel(), new Host(2.5, 1e6, "0.1.0", "21.0.4", "continuation", 42)))
            .replaceAll(
                ",\\s*\"java\": \"21.0.4\",\\s*\"workers\": \"continuation\",\\s*\"handOvers\": 42",
                "");
    assertThat(json).contains("\"version\": \"0.1.0\"").doesNotContain("handOvers");

    assertThat(ResultJson.validate(json)).isEmpty();
    assertThat(ResultJson.fromJson(json).host().handOvers()).isZero();
  }

  @Test
  void resultSchema_rejectsAnUnknownKindOfWorker() {
    String json =
        ResultJson.toJson(sample(kernel(), new Host(2.5, 1e6, "0.1.0", "21.0.4", "carrier", 42)));
    assertThat(ResultJson.validate(json)).isNotEmpty();
  }

  @Test
  void resultSchema_rejectsAMalformedResult() {
    String json =
        ResultJson.toJson(sample(kernel(), null))
            .replace("\"seed\": 42", "\"seed\": \"42\", \"extra\": true")
            .replace("\"kind\": \"STALE_TLB_USE\"", "\"kind\": \"STALE\"");

    assertThat(ResultJson.validate(json))
        .extracting(ConfigProblem::toString)
        .containsExactly(
            "/extra: unknown key (expected one of: cycles, host, kernel, latency, machine, maintenance, schemaVersion, "
                + "seed, tlb, tlbPerCore, translations, violationCounts, violations, walks, workload)",
            "/seed: \"42\" (expected: an integer)",
            "/violations/0/kind: \"STALE\" (expected: one of STALE_TLB_USE, UNFLUSHED_ALIAS, FREED_TABLE_WALK, "
                + "LOST_WRITE, BREAK_BEFORE_MAKE, KERNEL_UAF, CONTIGUOUS_MISPROGRAMMED, UFFD_WP, VMA_LOCK)");
  }

  @Test
  void resultSchema_listsEveryViolationKind() throws IOException {
    JsonNode kinds =
        SchemaCheck.result().schemaNode().get("$defs").get("violationKind").get("enum");
    List<String> names = new ArrayList<>();
    kinds.forEach(k -> names.add(k.asText()));

    assertThat(names)
        .containsExactly(
            Arrays.stream(ViolationKind.values()).map(Enum::name).toArray(String[]::new));
  }

  @Test
  void writeAtomically_replacesTheTargetAndLeavesNoTemporaryFile() throws IOException {
    Path target = dir.resolve("result.json");
    Files.writeString(target, "old");
    RunResult result = sample(kernel(), null);

    ResultJson.writeAtomically(result, target);

    assertThat(Files.readString(target)).isEqualTo(ResultJson.toJson(result));
    assertThat(listing()).containsExactly("result.json");
  }

  @Test
  void writeAtomically_unserializableResult_leavesTheTargetUntouched() throws IOException {
    Path target = dir.resolve("result.json");
    Files.writeString(target, "old");
    Map<String, Object> kernel = new LinkedHashMap<>(kernel());
    kernel.put("zz", new Object());

    assertThatThrownBy(() -> ResultJson.writeAtomically(sample(kernel, null), target))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(Files.readString(target)).isEqualTo("old");
    assertThat(listing()).containsExactly("result.json");
  }

  @Test
  void writeAtomically_failedRename_removesTheTemporaryFile() throws IOException {
    Path target = dir.resolve("result.json");
    Files.createDirectories(target.resolve("keep"));

    assertThatThrownBy(() -> ResultJson.writeAtomically(sample(kernel(), null), target))
        .isInstanceOf(IOException.class);

    assertThat(target.resolve("keep")).isDirectory();
    assertThat(listing()).containsExactly("result.json");
  }

  private List<String> listing() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
