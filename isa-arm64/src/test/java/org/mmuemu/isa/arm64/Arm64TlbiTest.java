package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.core.walk.WalkCache;

/**
 * Every AArch64 TLBI form against one picture of two cores' TLBs and walk caches: what it removes
 * and what it keeps (the ASID, global entries, other VAs, walk-cache entries for the last-level
 * forms), on the issuing core and on the other core (the {@code IS} forms reach both, the others
 * only the issuer), the range forms' exact edges, and the name each is counted under. The picture,
 * on both cores:
 *
 * <ul>
 *   <li>{@code A1}: VA_A, ASID 1; {@code A2}: VA_A, ASID 2 (another mm's page at the same VA);
 *   <li>{@code B1}: VA_A + 4 KiB, ASID 1; {@code D1}: VA_A + 8 KiB, ASID 1;
 *   <li>{@code G}: VA_G, global (nG clear);
 *   <li>walk-cache entries for VA_A under ASID 1 and ASID 2 at every table level.
 * </ul>
 */
final class Arm64TlbiTest {
  private static final int ASID_1 = 1;
  private static final int ASID_2 = 2;
  private static final long VA_A = 0x0000_0000_4060_0000L;
  private static final long VA_B = VA_A + 0x1000;
  private static final long VA_D = VA_A + 0x2000;
  private static final long VA_G = 0x0000_0000_8000_0000L;
  private static final int USER_RW =
      PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY;

  private Machine machine;
  private long root1;
  private long root2;

  @BeforeEach
  void buildPicture() {
    machine = Arm64TestMachines.build(2, Map.of("tlbiRange", true));
    PageTableWriter tables = new PageTableWriter(machine);
    root1 = tables.newTable();
    root2 = tables.newTable();
    for (long va : new long[] {VA_A, VA_B, VA_D}) {
      tables.map(root1, va, frame(), 3, USER_RW);
    }
    tables.map(root2, VA_A, frame(), 3, USER_RW);
    long globalPa = frame();
    tables.map(root1, VA_G, globalPa, 3, USER_RW | PteFlags.GLOBAL);
    for (int core = 0; core < 2; core++) {
      load(core, root2, ASID_2);
      machine.translate(core, VA_A, AccessKind.READ);
      load(core, root1, ASID_1);
      for (long va : new long[] {VA_A, VA_B, VA_D, VA_G}) {
        machine.translate(core, va, AccessKind.READ);
      }
    }
    assertThat(present(0)).containsExactlyInAnyOrder("A1", "A2", "B1", "D1", "G");
    assertThat(walkCached(0, ASID_1)).isTrue();
    assertThat(walkCached(0, ASID_2)).isTrue();
  }

  private long frame() {
    return machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
  }

  private void load(int core, long root, int asid) {
    machine.core(core).context().setUser(root << PhysicalMemory.FRAME_SHIFT, asid);
  }

  /** The picture's TLB entries {@code core} still holds, in any level. */
  private Set<String> present(int core) {
    Set<String> names = new TreeSet<>();
    for (SetAssociativeTlb tlb : machine.core(core).tlbLevels()) {
      addIf(names, tlb, VA_A, ASID_1, "A1");
      addIf(names, tlb, VA_A, ASID_2, "A2");
      addIf(names, tlb, VA_B, ASID_1, "B1");
      addIf(names, tlb, VA_D, ASID_1, "D1");
      addIf(names, tlb, VA_G, ASID_1, "G");
    }
    return names;
  }

  private static void addIf(
      Set<String> names, SetAssociativeTlb tlb, long va, int asid, String name) {
    int slot = tlb.probe(va, asid);
    if (slot >= 0 && (name.equals("G") == tlb.isGlobal(slot))) {
      names.add(name);
    }
  }

  /** Whether the level-2 walk cache of {@code core} still points VA_A's walk at its last table. */
  private boolean walkCached(int core, int asid) {
    WalkCache cache = machine.core(core).walkCaches()[2];
    return cache.lookup(VA_A, asid) >= 0;
  }

  static Stream<Arguments> forms() {
    return Stream.of(
        // name, scope, lastLevel, va, asid, removed, walk cache of ASID 1 / ASID 2 dropped
        Arguments.of(
            "TLBI VAE1", InvalidationScope.VA, false, VA_A, ASID_1, Set.of("A1"), true, false),
        Arguments.of(
            "TLBI VALE1", InvalidationScope.VA, true, VA_A, ASID_1, Set.of("A1"), false, false),
        Arguments.of(
            "TLBI VAE1", InvalidationScope.VA, false, VA_G, ASID_2, Set.of("G"), false, false),
        Arguments.of(
            "TLBI VAAE1",
            InvalidationScope.VA_ALL_ASIDS,
            false,
            VA_A,
            0,
            Set.of("A1", "A2"),
            true,
            true),
        Arguments.of(
            "TLBI VAALE1",
            InvalidationScope.VA_ALL_ASIDS,
            true,
            VA_A,
            0,
            Set.of("A1", "A2"),
            false,
            false),
        Arguments.of(
            "TLBI ASIDE1",
            InvalidationScope.ASID,
            false,
            0L,
            ASID_1,
            Set.of("A1", "B1", "D1"),
            true,
            false),
        Arguments.of(
            "TLBI VMALLE1",
            InvalidationScope.ALL,
            false,
            0L,
            0,
            Set.of("A1", "A2", "B1", "D1", "G"),
            true,
            true));
  }

  @ParameterizedTest(name = "{0} {3}")
  @MethodSource("forms")
  void localForm_removesItsScopeOnTheIssuerOnly(
      String name,
      InvalidationScope scope,
      boolean lastLevel,
      long va,
      int asid,
      Set<String> removed,
      boolean dropsWalk1,
      boolean dropsWalk2) {
    machine.invalidate(
        0, Invalidation.local(scope).withLastLevelOnly(lastLevel), va, va + 0x1000, asid);

    assertThat(present(0))
        .doesNotContainAnyElementsOf(removed)
        .containsExactlyInAnyOrderElementsOf(without(Set.of("A1", "A2", "B1", "D1", "G"), removed));
    assertThat(walkCached(0, ASID_1)).isEqualTo(!dropsWalk1);
    assertThat(walkCached(0, ASID_2)).isEqualTo(!dropsWalk2);
    assertThat(present(1)).containsExactlyInAnyOrder("A1", "A2", "B1", "D1", "G");
    assertThat(walkCached(1, ASID_1)).isTrue();
    assertThat(machine.stats().instructionCounts()).containsExactly(Map.entry(name, 1L));
  }

  @ParameterizedTest(name = "{0}IS {3}")
  @MethodSource("forms")
  void broadcastForm_removesItsScopeOnEveryCore(
      String name,
      InvalidationScope scope,
      boolean lastLevel,
      long va,
      int asid,
      Set<String> removed,
      boolean dropsWalk1,
      boolean dropsWalk2) {
    machine.invalidate(
        0, Invalidation.broadcast(scope).withLastLevelOnly(lastLevel), va, va + 0x1000, asid);
    assertThat(present(1))
        .as("core 1 before the completion")
        .containsExactlyInAnyOrder("A1", "A2", "B1", "D1", "G");
    assertThat(machine.stats().instructionCounts()).containsExactly(Map.entry(name + "IS", 1L));
    dsbIsh();

    for (int core = 0; core < 2; core++) {
      assertThat(present(core))
          .containsExactlyInAnyOrderElementsOf(
              without(Set.of("A1", "A2", "B1", "D1", "G"), removed));
      assertThat(walkCached(core, ASID_1)).isEqualTo(!dropsWalk1);
      assertThat(walkCached(core, ASID_2)).isEqualTo(!dropsWalk2);
    }
  }

  /**
   * Core 0 waits for its broadcasts to complete: from then on, core 0 sees them done everywhere.
   */
  private void dsbIsh() {
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
  }

  private static Set<String> without(Set<String> all, Set<String> removed) {
    Set<String> kept = new TreeSet<>(all);
    kept.removeAll(removed);
    return kept;
  }

  @Test
  void rangeForm_removesExactlyTheEncodedPages_notTheOnesAtItsEdges() {
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true).withRange(true),
        VA_B,
        VA_B + 0x2000,
        ASID_1);

    // [B, B + 8 KiB) holds B1 and D1; A1 is the page just below the start, nothing at the end.
    assertThat(present(0)).containsExactlyInAnyOrder("A1", "A2", "G");
    assertThat(machine.stats().instructionCounts()).containsExactly(Map.entry("TLBI RVALE1IS", 1L));
    dsbIsh();
    assertThat(present(1)).containsExactlyInAnyOrder("A1", "A2", "G");
    assertThat(walkCached(1, ASID_1)).isTrue();
  }

  @Test
  void rangeForms_areNamedAfterTheirByVaForm() {
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withRange(true),
        VA_A,
        VA_A + 0x2000,
        ASID_1);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS).withRange(true),
        VA_A,
        VA_A + 0x2000,
        0);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS)
            .withLastLevelOnly(true)
            .withRange(true),
        VA_A,
        VA_A + 0x2000,
        0);
    machine.invalidate(
        0,
        Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true).withRange(true),
        VA_A,
        VA_A + 0x2000,
        ASID_1);

    assertThat(machine.stats().instructionCounts())
        .containsOnlyKeys("TLBI RVAE1IS", "TLBI RVAAE1IS", "TLBI RVAALE1IS", "TLBI RVALE1");
  }

  @Test
  void rangeForm_allAsids_removesOtherAsidsToo_andWalkCacheUnlessLastLevel() {
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS).withRange(true),
        VA_A,
        VA_A + 0x2000,
        0);
    dsbIsh();

    assertThat(present(1)).containsExactlyInAnyOrder("D1", "G");
    assertThat(walkCached(1, ASID_2)).isFalse();
  }

  @Test
  void rangeForm_ofALengthNoOperandEncodes_isRejected() {
    assertThatThrownBy(
            () ->
                machine.invalidate(
                    0,
                    Invalidation.broadcast(InvalidationScope.VA)
                        .withLastLevelOnly(true)
                        .withRange(true),
                    VA_A,
                    VA_A + 0x3000,
                    ASID_1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TLBI RVALE1IS can encode");
    assertThat(present(0)).contains("A1", "B1", "D1");
  }

  @Test
  void rangeForm_withoutFeatTlbiRange_doesNotExist() {
    Machine plain = Arm64TestMachines.build(2, Map.of());

    assertThatThrownBy(
            () ->
                plain.invalidate(
                    0,
                    Invalidation.broadcast(InvalidationScope.VA)
                        .withLastLevelOnly(true)
                        .withRange(true),
                    VA_A,
                    VA_A + 0x2000,
                    ASID_1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has no broadcast va last-level range");
    assertThat(
            plain
                .isa()
                .maintenance()
                .supports(Invalidation.broadcast(InvalidationScope.VA).withRange(true), true))
        .isFalse();
  }

  @Test
  void byVaForm_ofAPageInsideABlock_dropsTheWholeBlockEntry() {
    PageTableWriter tables = new PageTableWriter(machine);
    long blockVa = 0x0000_0000_c000_0000L;
    long blockPa =
        machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root1, blockVa, blockPa, 2, USER_RW);
    assertThat(machine.translate(0, blockVa + 0x12345, AccessKind.READ))
        .isEqualTo(blockPa + 0x12345);
    int slot = machine.core(0).tlb("l2").probe(blockVa, ASID_1);
    assertThat(machine.core(0).tlb("l2").pageShiftOf(slot)).isEqualTo(21);

    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        blockVa + 0x1F_F000,
        blockVa + 0x20_0000,
        ASID_1);

    assertThat(machine.core(0).tlb("l2").probe(blockVa, ASID_1)).isNegative();
    assertThat(machine.core(0).tlb("l1d").probe(blockVa, ASID_1)).isNegative();
  }

  @Test
  void issueCosts_byVaAndRangeCostATlbi_addressSpaceFormsCostMore() {
    long t0 = machine.now(0);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA_A,
        VA_A + 0x1000,
        ASID_1);
    long t1 = machine.now(0);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true).withRange(true),
        VA_A,
        VA_A + 0x2000,
        ASID_1);
    long t2 = machine.now(0);
    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.ASID), 0, 0, ASID_1);
    long t3 = machine.now(0);

    assertThat(List.of(t1 - t0, t2 - t1, t3 - t2))
        .containsExactly(
            Arm64TestMachines.TLBI_CYCLES,
            Arm64TestMachines.TLBI_CYCLES,
            Arm64TestMachines.TLBI_ALL_CYCLES);
  }
}
