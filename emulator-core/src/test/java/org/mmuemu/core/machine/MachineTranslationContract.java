package org.mmuemu.core.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.testkit.MachineSpecBuilder;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.testkit.SmallMachines;
import org.mmuemu.core.tlb.SetAssociativeTlb;

/**
 * What every ISA must give the machine: translations through its own descriptors at every leaf
 * size, TLB entries tagged by its address-space id unless global, invalidations that remove exactly
 * their scope's entries under the ISA's own instruction names and costs, and an oracle that catches
 * a stale entry whatever the ISA.
 *
 * <p>Each test builds the {@link SmallMachines#standard standard} two-core machine (64 MiB, {@code
 * l1i}/{@code l1d}/{@code l2}, walk caches at levels 0-2) from the subclass's provider and ISA
 * section, writes descriptors with {@link PageTableWriter}, and loads one root as both the user and
 * the kernel root, so user VAs work the same on every ISA.
 *
 * <p>Subclasses (one per ISA module) supply the provider, the config section, and the ISA's
 * instruction names and issue costs as literal tables, so that a renamed or re-costed instruction
 * fails here.
 */
public abstract class MachineTranslationContract {
  /** One maintenance instruction as the ISA names it for a neutral operation. */
  public record NamedInstruction(InvalidationScope scope, boolean lastLevelOnly, String name) {}

  protected static final int ASID = 1;
  protected static final int OTHER_ASID = 2;

  /** Far enough past an issue for every built-in ISA's broadcast to have arrived everywhere. */
  private static final long ARRIVAL_HORIZON_CYCLES = 1_000_000;

  protected static final long VA_A = 0x0000_0000_0060_0000L;
  protected static final long VA_B = VA_A + 0x1000;
  protected static final long VA_G = VA_A + 0x2000;
  protected static final int USER_RW =
      PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY;

  protected Machine machine;
  protected PageTableFormat format;
  protected PageTableWriter tables;
  protected long root;
  private boolean scopePagesMapped;

  /** The provider under test. */
  protected abstract IsaProvider provider();

  /** The ISA's config section (costs included); the provider must accept it. */
  protected abstract Map<String, Object> isaConfig();

  /** The leaf levels the ISA allows, root = 0 (for example 1, 2 and 3 for 1 GiB, 2 MiB, 4 KiB). */
  protected abstract List<Integer> expectedLeafLevels();

  /** The local (this-core) instructions and their names, as the ISA must count them. */
  protected abstract List<NamedInstruction> localInstructions();

  /** The broadcast instructions and their names; empty when the ISA has none. */
  protected abstract List<NamedInstruction> broadcastInstructions();

  /** The issue cost {@link #isaConfig()} sets for the operation. */
  protected abstract long expectedIssueCycles(InvalidationScope scope, boolean broadcast);

  /**
   * Whether the ISA has last-level-only invalidations that keep the walk caches (arm64 {@code
   * VALE1}).
   */
  protected abstract boolean hasLastLevelOnlyInvalidation();

  @BeforeEach
  void buildMachine() {
    machine =
        SmallMachines.build(
            provider(),
            MachineSpecBuilder.forIsa(provider().id()).isaValues(isaConfig()).build(),
            1);
    machine.actOn(0);
    format = machine.format();
    tables = new PageTableWriter(machine);
    root = tables.newRootOnAllCores(ASID);
  }

  // ---------------------------------------------------------------------------------------
  // helpers

  /** Maps a fresh data frame at {@code va} with a base page; returns its physical address. */
  protected long mapPage(long va, int flags) {
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, va, pa, format.levels() - 1, flags);
    return pa;
  }

  protected long translate(int core, long va) {
    return machine.translate(core, va, AccessKind.READ);
  }

  /** Loads the shared root with {@code asid} on {@code core}. */
  protected void switchAsid(int core, int asid) {
    tables.load(core, root, asid);
  }

  protected SetAssociativeTlb tlb(int core, String name) {
    return machine.core(core).tlb(name);
  }

  /** Whether any data-side TLB level of {@code core} holds a non-global entry for va in asid. */
  protected boolean holdsTagged(int core, long va, int asid) {
    for (String name : List.of("l1d", "l2")) {
      int slot = tlb(core, name).probe(va, asid);
      if (slot >= 0 && !tlb(core, name).isGlobal(slot)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any data-side TLB level of {@code core} holds a global entry for va. */
  protected boolean holdsGlobal(int core, long va) {
    for (String name : List.of("l1d", "l2")) {
      int slot = tlb(core, name).probe(va, 0x7ff);
      if (slot >= 0 && tlb(core, name).isGlobal(slot)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Fills, on {@code core}: A = (VA_A, ASID), B = (VA_B, ASID), G = (VA_G, global) and A' = (VA_A,
   * OTHER_ASID). Pages are mapped once, on the first call.
   */
  protected void fillScopeEntries(int core) {
    if (!scopePagesMapped) {
      mapPage(VA_A, USER_RW);
      mapPage(VA_B, USER_RW);
      mapPage(VA_G, USER_RW | PteFlags.GLOBAL);
      scopePagesMapped = true;
    }
    switchAsid(core, ASID);
    assertThat(translate(core, VA_A)).isPositive();
    assertThat(translate(core, VA_B)).isPositive();
    assertThat(translate(core, VA_G)).isPositive();
    switchAsid(core, OTHER_ASID);
    assertThat(translate(core, VA_A)).isPositive();
    switchAsid(core, ASID);
  }

  /**
   * The entries of {@link #fillScopeEntries} still held by {@code core}, as letters A, B, G, a (for
   * A').
   */
  protected String survivors(int core) {
    return (holdsTagged(core, VA_A, ASID) ? "A" : "")
        + (holdsTagged(core, VA_B, ASID) ? "B" : "")
        + (holdsGlobal(core, VA_G) ? "G" : "")
        + (holdsTagged(core, VA_A, OTHER_ASID) ? "a" : "");
  }

  /** What a neutral scope must leave of A, B, G and A' when aimed at VA_A in ASID. */
  /**
   * Which of the entries A, B (ASID, VA_A and VA_B), G (global) and a (other ASID) survive a local
   * invalidation of VA_A by {@code scope}. An ISA without an exact form for a scope overrides this
   * with what its instruction really removes.
   */
  protected String expectedSurvivors(InvalidationScope scope) {
    return switch (scope) {
      case VA -> "BGa";
      case VA_ALL_ASIDS -> "BG";
      case ASID -> "Ga";
      case ALL_NON_GLOBAL -> "G";
      case ALL -> "";
    };
  }

  private long levelSize(int level) {
    return 1L << format.levelShift(level);
  }

  // ---------------------------------------------------------------------------------------
  // translation

  @Test
  void leafLevels_areTheExpectedOnes() {
    List<Integer> allowed = new ArrayList<>();
    for (int level = 0; level < format.levels(); level++) {
      if (format.allowsLeaf(level)) {
        allowed.add(level);
      }
    }
    assertThat(allowed).isEqualTo(expectedLeafLevels());
  }

  @Test
  void leafAtEveryAllowedLevel_translatesAndCachesItsPageSize() {
    for (int level : expectedLeafLevels()) {
      long size = levelSize(level);
      long va = ((long) (level + 2) << format.levelShift(0)) + 3 * size; // its own root slot
      long pa;
      long offset;
      if (size <= SmallMachines.MEMORY_BYTES / 4) {
        pa =
            machine
                    .memory()
                    .allocateContiguous((int) (size >>> PhysicalMemory.FRAME_SHIFT), FrameKind.DATA)
                << PhysicalMemory.FRAME_SHIFT;
        offset = size - 8;
      } else {
        // A block larger than memory maps from PA 0 over all of it: aim at an allocated frame.
        pa = 0;
        offset = (machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT) + 0x18;
      }
      tables.map(root, va, pa, level, USER_RW);
      long walkRefsBefore = machine.stats().walkMemoryRefs();

      long translated = translate(0, va + offset);

      String where = "leaf at level " + level;
      assertThat(translated).as(where).isEqualTo(pa + offset);
      assertThat(machine.stats().walkMemoryRefs() - walkRefsBefore).as(where).isEqualTo(level + 1);
      int l2 = tlb(0, "l2").probe(va + offset, ASID);
      assertThat(tlb(0, "l2").pageShiftOf(l2)).as(where).isEqualTo(format.levelShift(level));
      int l1 = tlb(0, "l1d").probe(va + offset, ASID);
      assertThat(tlb(0, "l1d").pageShiftOf(l1))
          .as(where + ", splintered to l1d's 2 MiB at most")
          .isEqualTo(Math.min(format.levelShift(level), 21));
      long walks = machine.stats().walks();
      assertThat(translate(0, va + offset)).as(where).isEqualTo(pa + offset);
      assertThat(machine.stats().walks()).as(where + ": the second access hits").isEqualTo(walks);
    }
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void nonGlobalEntry_doesNotHitInAnotherAsid() {
    long pa = mapPage(VA_A, USER_RW);
    assertThat(translate(0, VA_A)).isEqualTo(pa);
    long walks = machine.stats().walks();

    switchAsid(0, OTHER_ASID);
    assertThat(tlb(0, "l1d").probe(VA_A, OTHER_ASID)).isNegative();
    assertThat(tlb(0, "l2").probe(VA_A, OTHER_ASID)).isNegative();
    assertThat(translate(0, VA_A)).isEqualTo(pa);
    assertThat(machine.stats().walks()).isEqualTo(walks + 1);

    switchAsid(0, ASID);
    assertThat(translate(0, VA_A)).isEqualTo(pa);
    assertThat(machine.stats().walks()).as("the first ASID's entry survived").isEqualTo(walks + 1);
  }

  @Test
  void globalEntry_hitsInEveryAsid() {
    long pa = mapPage(VA_G, USER_RW | PteFlags.GLOBAL);
    assertThat(translate(0, VA_G)).isEqualTo(pa);
    long walks = machine.stats().walks();

    switchAsid(0, OTHER_ASID);

    assertThat(translate(0, VA_G)).isEqualTo(pa);
    assertThat(machine.stats().walks()).isEqualTo(walks);
    assertThat(holdsGlobal(0, VA_G)).isTrue();
  }

  @Test
  void storeThroughAReadOnlyPage_faults() {
    long pa = mapPage(VA_A, PteFlags.USER | PteFlags.ACCESSED);

    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(pa);
    assertThat(machine.translate(0, VA_A, AccessKind.WRITE)).isEqualTo(-1);
    assertThat(machine.stats().faults()).isEqualTo(1);
  }

  /**
   * Reclaim's {@code ptep_test_and_clear_young} relies on this: the hardware sets the accessed flag
   * on a walk only, so a cleared flag stays clear while a cached entry serves the accesses, and
   * comes back once the entry is invalidated (why arm64 follows the clear with a TLBI).
   */
  @Test
  void accessedFlag_isSetByAWalk_notByATlbHit() {
    assumeTrue(format.setsAccessedInHardware());
    mapPage(VA_A, PteFlags.USER | PteFlags.WRITE | PteFlags.DIRTY);
    int leafLevel = format.levels() - 1;

    translate(0, VA_A);
    assertThat(leafFlags(leafLevel) & PteFlags.ACCESSED).as("set by the walk").isNotZero();

    long table = tables.tableAt(root, VA_A, leafLevel, false);
    int index = format.index(VA_A, leafLevel);
    long young = machine.memory().readDescriptor(table, index);
    machine
        .memory()
        .writeDescriptor(
            table,
            index,
            format.withFlags(
                young, leafLevel, format.flags(young, leafLevel) & ~PteFlags.ACCESSED));
    translate(0, VA_A);
    assertThat(leafFlags(leafLevel) & PteFlags.ACCESSED).as("a TLB hit leaves it clear").isZero();

    machine.invalidate(0, Invalidation.local(InvalidationScope.VA), VA_A, VA_A + 0x1000, ASID);
    translate(0, VA_A);
    assertThat(leafFlags(leafLevel) & PteFlags.ACCESSED).as("the next walk sets it").isNotZero();
  }

  private int leafFlags(int leafLevel) {
    long table = tables.tableAt(root, VA_A, leafLevel, false);
    return format.flags(
        machine.memory().readDescriptor(table, format.index(VA_A, leafLevel)), leafLevel);
  }

  @Test
  void instructionFetch_goesThroughTheInstructionSide() {
    long pa = mapPage(VA_A, USER_RW | PteFlags.EXEC);

    assertThat(machine.translate(0, VA_A, AccessKind.FETCH)).isEqualTo(pa);

    assertThat(tlb(0, "l1i").probe(VA_A, ASID)).isNotNegative();
    assertThat(tlb(0, "l1d").probe(VA_A, ASID)).isNegative();
    assertThat(tlb(0, "l2").probe(VA_A, ASID)).isNotNegative();
  }

  // ---------------------------------------------------------------------------------------
  // invalidation

  @ParameterizedTest
  @EnumSource(InvalidationScope.class)
  void invalidateLocal_removesExactlyTheScopesEntries(InvalidationScope scope) {
    fillScopeEntries(0);
    fillScopeEntries(1);
    assertThat(survivors(0)).isEqualTo("ABGa");

    machine.invalidate(0, Invalidation.local(scope), VA_A, VA_A + 0x1000, ASID);

    assertThat(survivors(0)).isEqualTo(expectedSurvivors(scope));
    assertThat(survivors(1)).as("another core is untouched").isEqualTo("ABGa");
  }

  @ParameterizedTest
  @EnumSource(
      value = InvalidationScope.class,
      names = {"VA", "VA_ALL_ASIDS"})
  void invalidateByVa_ofAGlobalPage_removesTheGlobalEntryOnly(InvalidationScope scope) {
    fillScopeEntries(0);

    machine.invalidate(0, Invalidation.local(scope), VA_G, VA_G + 0x1000, ASID);

    assertThat(survivors(0)).isEqualTo("ABa");
  }

  @Test
  void invalidateByVaRange_removesEveryPageInTheRange() {
    fillScopeEntries(0);

    machine.invalidate(0, Invalidation.local(InvalidationScope.VA), VA_A, VA_G + 0x1000, ASID);

    assertThat(survivors(0)).isEqualTo("a");
  }

  @Test
  void invalidateLocal_countsTheIsasInstructionNames() {
    Map<String, Long> expected = new TreeMap<>();
    for (NamedInstruction instruction : localInstructions()) {
      assertThat(
              machine
                  .isa()
                  .maintenance()
                  .name(
                      Invalidation.local(instruction.scope())
                          .withLastLevelOnly(instruction.lastLevelOnly()),
                      true))
          .isEqualTo(instruction.name());
      machine.invalidate(
          0,
          Invalidation.local(instruction.scope()).withLastLevelOnly(instruction.lastLevelOnly()),
          VA_A,
          VA_A + 0x1000,
          ASID);
      expected.merge(instruction.name(), 1L, Long::sum);
    }

    assertThat(machine.stats().instructionCounts()).isEqualTo(expected);
  }

  @Test
  void invalidateLocal_chargesTheConfiguredIssueCyclesToTheIssuingCoreOnly() {
    for (NamedInstruction instruction : localInstructions()) {
      long before = machine.now(0);
      machine.invalidate(
          0,
          Invalidation.local(instruction.scope()).withLastLevelOnly(instruction.lastLevelOnly()),
          VA_A,
          VA_A + 0x1000,
          ASID);
      assertThat(machine.now(0) - before)
          .as(instruction.name())
          .isEqualTo(expectedIssueCycles(instruction.scope(), false));
    }
    assertThat(machine.now(1)).isZero();
  }

  @Test
  void invalidateBroadcast_reachesEveryCore_underTheBroadcastNames() {
    if (broadcastInstructions().isEmpty()) {
      assertThat(machine.isa().maintenance().hasBroadcast()).isFalse();
      assertThatThrownBy(
              () ->
                  machine.invalidate(
                      0, Invalidation.broadcast(InvalidationScope.VA), VA_A, VA_A + 0x1000, ASID))
          .isInstanceOf(IllegalStateException.class);
      assertThat(machine.stats().instructionCounts()).isEmpty();
      return;
    }
    assertThat(machine.isa().maintenance().hasBroadcast()).isTrue();
    Map<String, Long> expected = new TreeMap<>();
    for (NamedInstruction instruction : broadcastInstructions()) {
      fillScopeEntries(0);
      fillScopeEntries(1);
      long issuer = machine.now(0);
      long other = machine.now(1);

      machine.invalidate(
          0,
          Invalidation.broadcast(instruction.scope())
              .withLastLevelOnly(instruction.lastLevelOnly()),
          VA_A,
          VA_A + 0x1000,
          ASID);
      expected.merge(instruction.name(), 1L, Long::sum);

      assertThat(survivors(0))
          .as(instruction.name())
          .isEqualTo(expectedSurvivors(instruction.scope()));
      assertThat(machine.now(0) - issuer)
          .as(instruction.name())
          .isEqualTo(expectedIssueCycles(instruction.scope(), true));
      assertThat(machine.now(1)).as(instruction.name()).isEqualTo(other);
      // core 1's entries go when its clock reaches the broadcast's arrival (its completion)
      machine.clocks().waitUntil(1, machine.now(0) + ARRIVAL_HORIZON_CYCLES);
      assertThat(survivors(1))
          .as(instruction.name())
          .isEqualTo(expectedSurvivors(instruction.scope()));
      assertThat(
              machine
                  .isa()
                  .maintenance()
                  .name(
                      Invalidation.broadcast(instruction.scope())
                          .withLastLevelOnly(instruction.lastLevelOnly()),
                      true))
          .isEqualTo(instruction.name());
    }
    assertThat(machine.stats().instructionCounts()).isEqualTo(expected);
  }

  @Test
  void invalidateByVa_allLevels_dropsTheWalkCaches() {
    mapPage(VA_A, USER_RW);
    translate(0, VA_A);

    machine.invalidate(0, Invalidation.local(InvalidationScope.VA), VA_A, VA_A + 0x1000, ASID);
    long refs = machine.stats().walkMemoryRefs();
    translate(0, VA_A);

    assertThat(machine.stats().walkMemoryRefs() - refs).isEqualTo(format.levels());
  }

  @Test
  void invalidateByVa_lastLevelOnly_keepsTheWalkCachesOnlyWhereTheIsaHasSuchAForm() {
    mapPage(VA_A, USER_RW);
    translate(0, VA_A);

    machine.invalidate(
        0,
        Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true),
        VA_A,
        VA_A + 0x1000,
        ASID);
    long refs = machine.stats().walkMemoryRefs();
    translate(0, VA_A);

    assertThat(machine.stats().walkMemoryRefs() - refs)
        .as(
            hasLastLevelOnlyInvalidation()
                ? "walk starts below the cached level-%d table"
                : "no last-level-only form: the paging-structure caches are dropped as well",
            format.levels() - 2)
        .isEqualTo(hasLastLevelOnlyInvalidation() ? 1 : format.levels());
  }

  // ---------------------------------------------------------------------------------------
  // oracle

  @Test
  void reallocatedFrameThroughAStaleEntry_isReported() {
    long pa = mapPage(VA_A, USER_RW);
    translate(0, VA_A);
    tables.clear(root, VA_A, format.levels() - 1);
    machine.memory().free(pa >>> PhysicalMemory.FRAME_SHIFT);
    machine.memory().allocate(FrameKind.DATA);

    assertThat(translate(0, VA_A + 0x40)).isEqualTo(pa + 0x40);

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertThat(machine.oracle().total()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).pa())
        .isEqualTo("0x" + Long.toHexString(pa + 0x40));
  }

  @Test
  void frameFreedAfterTheInvalidation_isNotReported() {
    long pa = mapPage(VA_A, USER_RW);
    translate(0, VA_A);
    tables.clear(root, VA_A, format.levels() - 1);
    machine.invalidate(
        0,
        Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true),
        VA_A,
        VA_A + 0x1000,
        ASID);
    machine.memory().free(pa >>> PhysicalMemory.FRAME_SHIFT);
    machine.memory().allocate(FrameKind.DATA);

    assertThat(translate(0, VA_A + 0x40)).isEqualTo(-1);

    assertThat(machine.oracle().total()).isZero();
  }
}
