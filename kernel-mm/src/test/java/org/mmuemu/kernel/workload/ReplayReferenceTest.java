package org.mmuemu.kernel.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.result.RunResult;
import org.mmuemu.core.result.RunResult.TlbCounts;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.kernel.run.Simulation;
import org.mmuemu.kernel.run.SimulationRequest;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Acceptance test of the replay semantics users rely on, on real valgrind lackey traces ({@code
 * src/test/resources/traces}, see the README there).
 *
 * <p>Every TLB count the simulator reports is compared with an independent reference: the test's
 * own lackey parser ({@link ReferenceTrace}) and a plain true-LRU model of the levels ({@link
 * ReferenceTlbHierarchy}) that encodes the documented semantics, not the simulator's code: one
 * core, one process; {@code I} records use the levels that serve instructions, {@code L}/{@code
 * S}/{@code M} the levels that serve data, {@code M} translating once; an access spanning two 4 KiB
 * pages translates each, in address order; one lookup per level reached; a miss that faults counts
 * once; set index = VPN modulo sets. Real traces make the test see what users will feed it
 * (start-up code, the stack at the top of the address space, accesses that straddle pages), which
 * hand-made traces tend to miss.
 */
final class ReplayReferenceTest {
  private static final List<String> TRACES =
      List.of("stride_sum.lackey", "list_walk.lackey", "qsort_ints.lackey");
  private static final List<String> ISAS = List.of("arm64", "x86");
  private static final Map<String, ReferenceTrace> PARSED = new ConcurrentHashMap<>();
  private static final long SEED = 42;

  /**
   * A one-core replay machine of {@code isa} with the given TLB levels, in lookup order: 256 MiB,
   * 40-cycle descriptor reads, one 8-entry walk cache.
   */
  private static MachineSpec machine(String isa, List<TlbLevelSpec> levels) {
    return KernelBoot.on(isa)
        .name("replay-test-" + isa)
        .cores(1)
        .memoryBytes(256L << 20)
        .tlbLevels(levels)
        .walker(
            new WalkerSpec(List.of(40, 40, 40, 40), 2, List.of(new WalkerSpec.WalkCacheSpec(1, 8))))
        .spec();
  }

  /** A 4 KiB-only LRU level. */
  private static TlbLevelSpec level(
      String name, Serves serves, int entries, int ways, int hitCycles) {
    return KernelBoot.level(name, serves, entries, ways, hitCycles, 4096L);
  }

  /** Replays {@code trace} on {@code spec} (host left null), with trace sinks attached. */
  private static RunResult replay(
      MachineSpec spec, Path trace, boolean lenient, List<TraceSink> sinks)
      throws WorkloadException {
    return Simulation.run(
        new SimulationRequest(
            spec,
            KernelBoot.isa(spec),
            "test",
            new ReplayWorkload(trace, lenient),
            Map.of(),
            SEED,
            sinks,
            () -> false));
  }

  private static RunResult replay(MachineSpec spec, Path trace, boolean lenient)
      throws WorkloadException {
    return replay(spec, trace, lenient, List.of());
  }

  /** The result's {@code kernel.replay} section. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> replaySection(RunResult result) {
    return (Map<String, Object>) result.kernel().get("replay");
  }

  /**
   * A one-level geometry; {@code ways == entries} is fully associative, {@code ways == 1} direct
   * mapped.
   */
  record Geometry(int entries, int ways) {
    @Override
    public String toString() {
      return entries
          + " entries "
          + (ways == entries ? "fully associative" : ways == 1 ? "direct mapped" : ways + "-way");
    }
  }

  /**
   * Chosen so that every one evicts on every trace (the traces touch 60 to 136 distinct pages):
   * small fully associative levels, low and middling associativity, set counts that are not powers
   * of two (48 entries 4-way has 12 sets; 96 direct-mapped entries, 96 sets), and a large
   * direct-mapped level whose misses are all conflicts between pages 4 MiB apart. (A 256-entry
   * 8-way level was dropped: it only ever takes compulsory misses here, so LRU and FIFO agree on
   * it.)
   */
  private static final List<Geometry> GEOMETRIES =
      List.of(
          new Geometry(16, 16),
          new Geometry(48, 48),
          new Geometry(32, 2),
          new Geometry(64, 4),
          new Geometry(48, 4),
          new Geometry(96, 1),
          new Geometry(1024, 1));

  @TempDir Path tempDir;

  static Path resource(String name) {
    try {
      return Path.of(ReplayReferenceTest.class.getResource("/traces/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static ReferenceTrace reference(String name) {
    return PARSED.computeIfAbsent(name, n -> ReferenceTrace.read(resource(n)));
  }

  static Stream<Arguments> traceIsaGeometry() {
    List<Arguments> arguments = new ArrayList<>();
    for (String trace : TRACES) {
      for (String isa : ISAS) {
        for (Geometry geometry : GEOMETRIES) {
          arguments.add(Arguments.of(trace, isa, geometry));
        }
      }
    }
    return arguments.stream();
  }

  static Stream<Arguments> traceIsa() {
    List<Arguments> arguments = new ArrayList<>();
    for (String trace : TRACES) {
      for (String isa : ISAS) {
        arguments.add(Arguments.of(trace, isa));
      }
    }
    return arguments.stream();
  }

  private static MachineSpec oneLevel(String isa, Geometry geometry) {
    return machine(
        isa, List.of(level("tlb", Serves.UNIFIED, geometry.entries(), geometry.ways(), 1)));
  }

  private static ReferenceTlbHierarchy oneLevelReference(Geometry geometry) {
    return new ReferenceTlbHierarchy(
        List.of(
            new ReferenceTlbHierarchy.Level(
                "tlb", ReferenceTlbHierarchy.Serves.UNIFIED, geometry.entries(), geometry.ways())));
  }

  private static List<TlbLevelSpec> twoLevelSpecs() {
    return List.of(
        level("l1i", Serves.INSTRUCTION, 32, 4, 1),
        level("l1d", Serves.DATA, 16, 16, 1),
        level("l2", Serves.UNIFIED, 64, 4, 6));
  }

  private static ReferenceTlbHierarchy twoLevelReference() {
    return new ReferenceTlbHierarchy(
        List.of(
            new ReferenceTlbHierarchy.Level("l1i", ReferenceTlbHierarchy.Serves.INSTRUCTION, 32, 4),
            new ReferenceTlbHierarchy.Level("l1d", ReferenceTlbHierarchy.Serves.DATA, 16, 16),
            new ReferenceTlbHierarchy.Level("l2", ReferenceTlbHierarchy.Serves.UNIFIED, 64, 4)));
  }

  @ParameterizedTest(name = "{0} on {1}, {2}")
  @MethodSource("traceIsaGeometry")
  void oneLruLevel_realTrace_lookupsAndMissesEqualReference(
      String trace, String isa, Geometry geometry) throws WorkloadException {
    RunResult result = replay(oneLevel(isa, geometry), resource(trace), false);

    Map<String, TlbCounts> expected = oneLevelReference(geometry).replay(reference(trace)).counts();
    assertThat(result.tlb()).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("traceIsa")
  void realTrace_replayCounters_matchTheTrace(String trace, String isa) throws WorkloadException {
    ReferenceTrace reference = reference(trace);

    RunResult result = replay(oneLevel(isa, new Geometry(64, 4)), resource(trace), false);

    Map<String, Object> counters = replaySection(result);
    assertThat(counters)
        .containsEntry("fetches", reference.count('I'))
        .containsEntry("loads", reference.count('L'))
        .containsEntry("stores", reference.count('S'))
        .containsEntry("modifies", reference.count('M'))
        .containsEntry("pageCrossings", reference.pageCrossings())
        .containsEntry("ignoredLines", reference.ignoredLines())
        .containsEntry("skippedLines", 0L);
    assertThat(reference.ignoredLines())
        .as("the banner lines of a real trace")
        .isGreaterThanOrEqualTo(6);
    // Demand paging: every page faults in exactly once, and every fault is resolved; a page first
    // read maps the zero page, and only its first store (a zero-page COW fault) allocates it.
    Map<String, Object> kernel = result.kernel();
    long zeroReads = (Long) kernel.getOrDefault("zeroPageReadFaults", 0L);
    long zeroCows = (Long) kernel.getOrDefault("zeroPageCowFaults", 0L);
    assertThat(zeroReads).isPositive();
    assertThat(kernel)
        .containsEntry("pageFaults", reference.distinctPages())
        .containsEntry("permissionFaults", zeroCows)
        .containsEntry("dataPagesAllocated", reference.distinctPages() - zeroReads + zeroCows)
        .containsEntry("segfaults", 0L)
        .containsEntry("unresolvedFaults", 0L);
    assertThat(result.violationCounts()).isEmpty();
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("traceIsa")
  void twoLevelsWithSplitL1_realTrace_perLevelCountsEqualReference(String trace, String isa)
      throws WorkloadException {
    RunResult result = replay(machine(isa, twoLevelSpecs()), resource(trace), false);

    assertThat(result.tlb()).isEqualTo(twoLevelReference().replay(reference(trace)).counts());
  }

  @Test
  void malformedLine_strictReplay_failsNamingFileAndLine() throws IOException {
    List<String> lines = realPrefix(40);
    lines.add(""); // line 41: blank, ignored
    lines.add(" L 1fff00077"); // line 42: a record cut short, as a truncated copy leaves it
    lines.addAll(realLines(40, 60));
    Path trace = write("cut.lackey", lines);

    assertThatThrownBy(() -> replay(oneLevel("arm64", new Geometry(64, 4)), trace, false))
        .isInstanceOf(WorkloadException.class)
        .hasMessageStartingWith("cut.lackey:42: ")
        .hasMessageContaining(" L 1fff00077");
  }

  @Test
  void malformedLines_lenientReplay_areSkippedCountedAndLeftOut()
      throws IOException, WorkloadException {
    List<String> lines = realPrefix(30);
    lines.add(" L 1fff00077");
    lines.addAll(realLines(30, 60));
    lines.add(" X 1fff000770,8");
    lines.add("");
    lines.addAll(realLines(60, 90));
    lines.add("lackey: not a record");
    lines.addAll(realLines(90, 120));
    Path trace = write("dirty.lackey", lines);
    ReferenceTrace reference = ReferenceTrace.read(trace);
    assertThat(reference.malformedLineNumbers()).containsExactly(31L, 62L, 94L);

    RunResult result = replay(oneLevel("x86", new Geometry(16, 16)), trace, true);

    assertThat(replaySection(result))
        .containsEntry("skippedLines", 3L)
        .containsEntry("ignoredLines", reference.ignoredLines())
        .containsEntry("lines", (long) lines.size());
    assertThat(result.tlb())
        .isEqualTo(oneLevelReference(new Geometry(16, 16)).replay(reference).counts());
  }

  @Test
  void accessSpanningPageBoundary_translatesEachPage_inEveryLevelOnItsPath()
      throws IOException, WorkloadException {
    // In the real traces only instruction fetches straddle pages (x86 instructions are unaligned).
    String spanning = firstRealRecord(a -> a.fetch() && a.firstVpn() != a.lastVpn());
    Path trace = write("spanning.lackey", List.of(spanning));

    RecordingSink misses = new RecordingSink(EventKind.TLB_MISS);
    RunResult oneLevel =
        replay(oneLevel("arm64", new Geometry(64, 4)), trace, false, List.of(misses));
    RunResult twoLevels = replay(machine("x86", twoLevelSpecs()), trace, false);

    assertThat(oneLevel.tlb()).containsExactlyEntriesOf(Map.of("tlb", new TlbCounts(2, 0, 2)));
    assertThat(twoLevels.tlb())
        .isEqualTo(
            Map.of(
                "l1i", new TlbCounts(2, 0, 2),
                "l1d", new TlbCounts(0, 0, 0),
                "l2", new TlbCounts(2, 0, 2)));
    assertThat(replaySection(oneLevel)).containsEntry("pageCrossings", 1L);
    assertThat(oneLevel.kernel()).containsEntry("pageFaults", 2L);
    ReferenceTrace.Access access = firstRealAccess(a -> a.fetch() && a.firstVpn() != a.lastVpn());
    assertThat(misses.events())
        .extracting(e -> e.a() >>> 12)
        .as("pages translated, in address order")
        .containsExactly(access.firstVpn(), access.lastVpn());
  }

  @Test
  void accessSpanningPageBoundary_secondTouchOfEitherPage_hits()
      throws IOException, WorkloadException {
    ReferenceTrace.Access spanning = firstRealAccess(a -> a.fetch() && a.firstVpn() != a.lastVpn());
    String record = firstRealRecord(a -> a.fetch() && a.firstVpn() != a.lastVpn());
    long secondPageVa = spanning.lastVpn() << 12;
    Path trace =
        write(
            "twice.lackey",
            List.of(
                record,
                String.format(" L %x,4", secondPageVa),
                String.format(" S %x,1", spanning.va())));

    RunResult result = replay(oneLevel("arm64", new Geometry(16, 16)), trace, false);

    assertThat(result.tlb()).containsExactlyEntriesOf(Map.of("tlb", new TlbCounts(4, 2, 2)));
  }

  @Test
  void modify_translatesOnceAsAStore() throws IOException, WorkloadException {
    String modify = firstRealRecord(a -> a.kind() == 'M' && a.firstVpn() == a.lastVpn());
    Path trace = write("modify.lackey", List.of(modify, modify));

    RecordingSink faults = new RecordingSink(EventKind.FAULT);

    RunResult result = replay(machine("arm64", twoLevelSpecs()), trace, false, List.of(faults));

    assertThat(result.tlb())
        .isEqualTo(
            Map.of(
                "l1i", new TlbCounts(0, 0, 0),
                "l1d", new TlbCounts(2, 1, 1),
                "l2", new TlbCounts(1, 0, 1)));
    assertThat(replaySection(result)).containsEntry("modifies", 2L).containsEntry("stores", 0L);
    assertThat(result.kernel())
        .containsEntry("pageFaults", 1L)
        .containsEntry("permissionFaults", 0L);
    assertThat(faults.events())
        .as("the first touch faults once, as a store")
        .extracting(RecordingSink.Event::b)
        .containsExactly((long) AccessKind.WRITE.ordinal());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("isas")
  void sameTraceTwice_identicalResults(String isa) throws WorkloadException {
    MachineSpec spec = machine(isa, twoLevelSpecs());

    RunResult first = replay(spec, resource("list_walk.lackey"), false);
    RunResult second = replay(spec, resource("list_walk.lackey"), false);

    assertThat(first.host()).isNull();
    assertThat(second).isEqualTo(first);
  }

  @Test
  void twoCoreMachine_replaysOnCoreZeroOnly() throws WorkloadException {
    Geometry geometry = new Geometry(32, 2);
    MachineSpec spec = oneLevel("arm64", geometry).withCores(2);

    RunResult result = replay(spec, resource("qsort_ints.lackey"), false);

    Map<String, TlbCounts> expected =
        oneLevelReference(geometry).replay(reference("qsort_ints.lackey")).counts();
    assertThat(result.tlbPerCore())
        .containsExactly(expected, Map.of("tlb", new TlbCounts(0, 0, 0)));
    assertThat(result.tlb()).isEqualTo(expected);
  }

  static Stream<String> isas() {
    return ISAS.stream();
  }

  // ---- helpers: tiny traces cut from the real ones ----

  private static List<String> realLines(int from, int to) {
    try (Stream<String> lines =
        Files.lines(resource("stride_sum.lackey"), StandardCharsets.ISO_8859_1)) {
      return new ArrayList<>(lines.skip(from).limit(to - from).toList());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first {@code count} lines of a real trace: the banner, then records. */
  private static List<String> realPrefix(int count) {
    return realLines(0, count);
  }

  private static ReferenceTrace.Access firstRealAccess(Predicate<ReferenceTrace.Access> wanted) {
    for (String trace : TRACES) {
      for (ReferenceTrace.Access access : reference(trace).accesses()) {
        if (wanted.test(access)) {
          return access;
        }
      }
    }
    throw new IllegalStateException("no such record in the real traces");
  }

  /** A real record, re-printed in lackey's own layout. */
  private static String firstRealRecord(Predicate<ReferenceTrace.Access> wanted) {
    ReferenceTrace.Access access = firstRealAccess(wanted);
    String prefix = access.fetch() ? "I " : " " + access.kind();
    return String.format("%s %08x,%d", prefix, access.va(), access.sizeBytes());
  }

  private Path write(String name, List<String> lines) throws IOException {
    Path file = tempDir.resolve(name);
    Files.write(file, lines, StandardCharsets.ISO_8859_1);
    return file;
  }
}
