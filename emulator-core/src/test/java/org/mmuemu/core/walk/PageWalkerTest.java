package org.mmuemu.core.walk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.Violation;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.testkit.FakeIsa;
import org.mmuemu.core.testkit.MachineSpecBuilder;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.testkit.SmallMachines;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;

/**
 * The walk's cost is most of a TLB miss's cost, so the number of descriptor reads and the cycles
 * charged for them must follow the walk caches and the config exactly. The walker also owns one
 * oracle property, {@link ViolationKind#FREED_TABLE_WALK}, checked here from both sides: it fires
 * when a walk cache leads into a freed table and stays silent once the covering invalidation has
 * run.
 *
 * <p>Runs through a one-core {@link Machine} with the test-only {@link FakeIsa}: one TLB level
 * ({@code l1}, 1 cycle, 4 KiB / 2 MiB / 1 GiB) in front of a walker whose descriptor reads cost 11,
 * 13, 17 and 19 cycles at levels 0-3 and whose walk-cache hits cost 2.
 */
final class PageWalkerTest {
  private static final int CORE = 0;
  private static final int ASID = 1;
  private static final long VA = 0x0000_0012_3440_0000L; // level indexes 0, 72, 418, 0
  private static final long KIB4 = 1L << 12;
  private static final long MIB2 = 1L << 21;
  private static final long GIB1 = 1L << 30;
  private static final long GIB512 = 1L << 39;
  private static final int FLAGS = PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED;
  private static final long TLB_CYCLES = 1;
  private static final long COLD_WALK_CYCLES = 11 + 13 + 17 + 19;

  private Machine machine;
  private PageTableWriter tables;
  private long root;
  private final List<long[]> faults = new ArrayList<>();

  private static Machine machine(WalkerSpec walker) {
    return SmallMachines.fake(
        MachineSpecBuilder.forIsa(FakeIsa.ID)
            .cores(1)
            .tlbLevels(
                List.of(
                    SmallMachines.level(
                        "l1",
                        Serves.UNIFIED,
                        16,
                        4,
                        Replacement.LRU,
                        1,
                        SmallMachines.KIB_4,
                        SmallMachines.MIB_2,
                        SmallMachines.GIB_1)))
            .walker(walker)
            .build());
  }

  private void boot(WalkerSpec walker) {
    machine = machine(walker);
    machine.actOn(CORE);
    tables = new PageTableWriter(machine);
    root = tables.newRootOnAllCores(ASID);
    machine
        .traceBus()
        .addSink(
            new TraceSink() {
              @Override
              public long kindMask() {
                return EventKind.FAULT.bit();
              }

              @Override
              public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
                faults.add(new long[] {core, a, c});
              }
            });
  }

  @BeforeEach
  void bootStandard() {
    boot(SmallMachines.walker(List.of(11, 13, 17, 19), 2, 0, 1, 2));
  }

  /** Maps a fresh data frame at {@code va} with a 4 KiB page and returns its physical address. */
  private long mapPage(long va) {
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, va, pa, 3, FLAGS);
    return pa;
  }

  /** The outcome of one translation: the PA, and the walk statistics and cycles it added. */
  private record Translation(
      long pa, long walks, long memoryRefs, long walkCacheHits, long cycles) {}

  private Translation translate(long va) {
    long walks = machine.stats().walks();
    long refs = machine.stats().walkMemoryRefs();
    long hits = machine.stats().walkCacheHits();
    long cycles = machine.now(CORE);
    long pa = machine.translate(CORE, va, AccessKind.READ);
    return new Translation(
        pa,
        machine.stats().walks() - walks,
        machine.stats().walkMemoryRefs() - refs,
        machine.stats().walkCacheHits() - hits,
        machine.now(CORE) - cycles);
  }

  private List<Violation> violations() {
    return machine.oracle().recorded();
  }

  @Test
  void coldWalk_readsOneDescriptorPerLevel_andPaysEachLevelsCost() {
    long pa = mapPage(VA);

    Translation t = translate(VA + 0x10);

    assertThat(t.pa()).isEqualTo(pa + 0x10);
    assertThat(t.walks()).isEqualTo(1);
    assertThat(t.memoryRefs()).isEqualTo(4);
    assertThat(t.walkCacheHits()).isZero();
    assertThat(t.cycles()).isEqualTo(TLB_CYCLES + COLD_WALK_CYCLES);
  }

  @Test
  void tlbHit_walksNot() {
    mapPage(VA);
    translate(VA);

    Translation t = translate(VA + 0x800);

    assertThat(t.walks()).isZero();
    assertThat(t.cycles()).isEqualTo(TLB_CYCLES);
  }

  // The second VA shares the tables above the level named: the deepest walk-cache hit decides
  // where the walk starts.
  @ParameterizedTest(name = "va + 0x{0}: {1} memory refs, {2} cycles")
  @CsvSource({
    "1000,        1, 22", // same last-level table: level-2 cache hit, read level 3
    "200000,      2, 39", // same level-2 table: level-1 hit, read levels 2 and 3
    "40000000,    3, 52", // same level-1 table: level-0 hit, read levels 1 to 3
    "8000000000,  4, 61"
  }) // another root slot: nothing cached
  void walkCacheHit_shortensTheWalkToTheLevelsBelowIt(
      String hexOffset, int memoryRefs, long cycles) {
    long other = VA + Long.parseLong(hexOffset, 16);
    mapPage(VA);
    long pa = mapPage(other);
    translate(VA);

    Translation t = translate(other);

    assertThat(t.pa()).isEqualTo(pa);
    assertThat(t.memoryRefs()).isEqualTo(memoryRefs);
    assertThat(t.walkCacheHits()).isEqualTo(memoryRefs < 4 ? 1 : 0);
    assertThat(t.cycles()).isEqualTo(cycles);
  }

  @Test
  void withoutWalkCaches_everyWalkReadsEveryLevel() {
    boot(SmallMachines.walker(List.of(11, 13, 17, 19), 2));
    mapPage(VA);
    mapPage(VA + KIB4);
    translate(VA);

    Translation t = translate(VA + KIB4);

    assertThat(t.memoryRefs()).isEqualTo(4);
    assertThat(t.walkCacheHits()).isZero();
    assertThat(t.cycles()).isEqualTo(TLB_CYCLES + COLD_WALK_CYCLES);
  }

  @Test
  void shortCostList_repeatsItsLastValueForDeeperLevels() {
    boot(SmallMachines.walker(List.of(10, 20), 2, 0, 1, 2));
    mapPage(VA);

    assertThat(translate(VA).cycles()).isEqualTo(TLB_CYCLES + 10 + 20 + 20 + 20);
  }

  @Test
  void onlyConfiguredLevelsCache() {
    boot(SmallMachines.walker(List.of(11, 13, 17, 19), 2, 0)); // a root-level cache only
    mapPage(VA);
    mapPage(VA + KIB4);
    translate(VA);

    Translation t = translate(VA + KIB4);

    assertThat(t.memoryRefs()).isEqualTo(3);
    assertThat(t.cycles()).isEqualTo(TLB_CYCLES + 2 + 13 + 17 + 19);
  }

  @ParameterizedTest(name = "leaf at level {0}")
  @CsvSource({"1, 2, 30", "2, 3, 21", "3, 4, 12"})
  void leafAboveTheLastLevel_endsTheWalkThere(int level, int memoryRefs, int pageShift) {
    long va = 3 * GIB1;
    long pa =
        level == 3
            ? machine.memory().allocate(FrameKind.DATA) << 12
            : machine.memory().allocateContiguous(512, FrameKind.DATA) << 12;
    long mappedPa = level == 1 ? 0 : pa; // 1 GiB block at PA 0 spans all of memory
    tables.map(root, va, mappedPa, level, FLAGS);
    long offset = level == 1 ? pa : 0x345;

    Translation t = translate(va + offset);

    assertThat(t.memoryRefs()).isEqualTo(memoryRefs);
    assertThat(t.pa()).isEqualTo(mappedPa + offset);
    int slot = machine.core(CORE).tlb("l1").probe(va + offset, ASID);
    assertThat(machine.core(CORE).tlb("l1").pageShiftOf(slot)).isEqualTo(pageShift);
    assertThat(violations()).isEmpty();
  }

  @ParameterizedTest(name = "descriptor cleared at level {0}")
  @ValueSource(ints = {0, 1, 2, 3})
  void invalidDescriptor_faultsAndReportsItsLevel(int level) {
    mapPage(VA);
    tables.clear(root, VA, level);

    Translation t = translate(VA);

    assertThat(t.pa()).isEqualTo(-1);
    assertThat(t.memoryRefs()).isEqualTo(level + 1);
    assertThat(faults).hasSize(1);
    assertThat(faults.get(0)).containsExactly(CORE, VA, level);
    assertThat(machine.unresolvedFaults()).isEqualTo(1);
    assertThat(machine.stats().faults()).isEqualTo(1);
    assertThat(violations()).isEmpty();
  }

  @Test
  void userHalfWalkCache_isTaggedWithTheAsid() {
    long otherRoot = tables.newTable();
    mapPage(VA);
    long otherPa = machine.memory().allocate(FrameKind.DATA) << 12;
    tables.map(otherRoot, VA, otherPa, 3, FLAGS);
    translate(VA);
    tables.load(CORE, otherRoot, ASID + 1);

    Translation t = translate(VA);

    assertThat(t.pa()).isEqualTo(otherPa);
    assertThat(t.memoryRefs()).isEqualTo(4);
  }

  @Test
  void kernelHalfWalkCache_isSharedByEveryAsid() {
    long kernelVa = 0xFFFF_8000_0020_0000L;
    mapPage(kernelVa);
    mapPage(kernelVa + KIB4);
    translate(kernelVa);
    tables.load(CORE, root, ASID + 1);

    Translation t = translate(kernelVa + KIB4);

    assertThat(t.memoryRefs()).isEqualTo(1);
  }

  @Test
  void walkCacheIntoAFreedTable_reportsFreedTableWalk() {
    mapPage(VA);
    mapPage(VA + KIB4);
    translate(VA);
    long lastLevelTable = tables.tableAt(root, VA, 3, false);
    tables.clear(root, VA, 2); // unhook the table ...
    machine.memory().free(lastLevelTable); // ... and free it, without invalidating the walk cache
    long cycleBefore = machine.now(CORE);

    translate(VA + KIB4);

    assertThat(machine.oracle().count(ViolationKind.FREED_TABLE_WALK)).isEqualTo(1);
    assertThat(machine.oracle().total()).isEqualTo(1);
    Violation v = violations().get(0);
    assertThat(v.kind()).isEqualTo("FREED_TABLE_WALK");
    assertThat(v.core()).isEqualTo(CORE);
    assertThat(v.cycle()).isEqualTo(cycleBefore + TLB_CYCLES);
    assertThat(v.va()).isEqualTo("0x" + Long.toHexString(VA + KIB4));
    assertThat(v.pa()).isEqualTo("0x" + Long.toHexString(lastLevelTable << 12));
    assertThat(v.detail()).contains("walk cache at level 2");
    assertThat(v.history()).anyMatch(line -> line.contains("freed"));
  }

  @Test
  void walkCacheIntoATableFrameReusedForData_reportsFreedTableWalk() {
    mapPage(VA);
    mapPage(VA + KIB4);
    translate(VA);
    long lastLevelTable = tables.tableAt(root, VA, 3, false);
    tables.clear(root, VA, 2);
    machine.memory().free(lastLevelTable);
    assertThat(machine.memory().allocate(FrameKind.DATA)).isEqualTo(lastLevelTable);

    translate(VA + KIB4);

    assertThat(machine.oracle().count(ViolationKind.FREED_TABLE_WALK)).isEqualTo(1);
    assertThat(violations().get(0).history()).anyMatch(line -> line.contains("allocated"));
  }

  @Test
  void freedTableAfterTheCoveringInvalidation_isNeverReached() {
    mapPage(VA);
    mapPage(VA + KIB4);
    translate(VA);
    long lastLevelTable = tables.tableAt(root, VA, 3, false);
    tables.clear(root, VA, 2);
    machine.invalidate(CORE, Invalidation.local(InvalidationScope.VA), VA, VA + KIB4, ASID);
    machine.memory().free(lastLevelTable);

    Translation t = translate(VA + KIB4);

    assertThat(t.pa()).isEqualTo(-1);
    assertThat(t.memoryRefs())
        .as("walked from the root to the cleared level-2 descriptor")
        .isEqualTo(3);
    assertThat(violations()).isEmpty();
  }

  @Test
  void lastLevelOnlyInvalidation_keepsTheWalkCache_soAFreedTableIsStillReached() {
    mapPage(VA);
    mapPage(VA + KIB4);
    translate(VA);
    long lastLevelTable = tables.tableAt(root, VA, 3, false);
    tables.clear(root, VA, 2);
    machine.invalidate(
        CORE,
        Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + KIB4,
        ASID);
    machine.memory().free(lastLevelTable);

    translate(VA + KIB4);

    assertThat(machine.oracle().count(ViolationKind.FREED_TABLE_WALK)).isEqualTo(1);
  }

  @Test
  void descriptorLeftPointingAtAFreedTable_reportsFreedTableWalk() {
    boot(
        SmallMachines.walker(
            List.of(11, 13, 17, 19), 2)); // no walk caches: the read itself is caught
    mapPage(VA);
    long lastLevelTable = tables.tableAt(root, VA, 3, false);
    machine.memory().free(lastLevelTable);

    translate(VA);

    assertThat(machine.oracle().count(ViolationKind.FREED_TABLE_WALK)).isEqualTo(1);
    assertThat(violations().get(0).detail())
        .contains("level-3")
        .contains("no longer holds a page table");
  }

  @Test
  void walksThroughLiveTables_reportNothing() {
    for (int i = 0; i < 64; i++) {
      mapPage(VA + i * MIB2 + (i % 7) * KIB4);
    }
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 64; i++) {
        assertThat(translate(VA + i * MIB2 + (i % 7) * KIB4).pa()).isPositive();
      }
    }

    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void byVaInvalidation_dropsTheWalkCacheEntriesCoveringTheVa() {
    mapPage(VA);
    translate(VA);

    machine.invalidate(CORE, Invalidation.local(InvalidationScope.VA), VA, VA + KIB4, ASID);

    assertThat(translate(VA).memoryRefs()).isEqualTo(4);
  }

  @Test
  void byVaInvalidation_keepsWalkCacheEntriesOfOtherRegions() {
    mapPage(VA);
    mapPage(VA + GIB512);
    mapPage(VA + GIB512 + KIB4);
    translate(VA);
    translate(VA + GIB512);

    machine.invalidate(CORE, Invalidation.local(InvalidationScope.VA), VA, VA + KIB4, ASID);

    assertThat(translate(VA + GIB512 + KIB4).memoryRefs()).isEqualTo(1);
  }

  /** The control case for the next test: a kernel VA well below the top of the address space. */
  @Test
  void byVaInvalidation_ofAKernelVa_dropsItsWalkCacheEntries() {
    long kernelVa = 0xFFFF_8000_0000_0000L;
    mapPage(kernelVa);
    translate(kernelVa);

    machine.invalidate(
        CORE, Invalidation.local(InvalidationScope.VA), kernelVa, kernelVa + KIB4, ASID);

    assertThat(translate(kernelVa).memoryRefs()).isEqualTo(4);
  }

  /**
   * The walk-cache entries for the topmost GiB of the address space (x86's last PML4 and PDPT slots
   * hold the kernel image, modules and the fixmap) end exactly at 2^64, which wraps to 0; the
   * overlap test in {@link WalkCache#invalidateRange} compares with that exclusive end and never
   * matches, so no by-VA invalidation removes them. The TLB entry itself (a 4 KiB page well below
   * the top) is removed, so the next translation walks, starting below the stale level-1 entry.
   */
  @Test
  void byVaInvalidation_inTheTopmostGib_dropsItsWalkCacheEntries() {
    long topGibVa = -GIB1; // 0xFFFF_FFFF_C000_0000
    mapPage(topGibVa);
    translate(topGibVa);

    machine.invalidate(
        CORE, Invalidation.local(InvalidationScope.VA), topGibVa, topGibVa + KIB4, ASID);

    assertThat(translate(topGibVa).memoryRefs())
        .as("descriptor reads after invalidating va 0x%x", topGibVa)
        .isEqualTo(4);
  }
}
