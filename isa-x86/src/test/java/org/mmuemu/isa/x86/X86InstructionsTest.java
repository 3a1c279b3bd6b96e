package org.mmuemu.isa.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.testkit.MachineSpecBuilder;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.testkit.SmallMachines;
import org.mmuemu.core.walk.WalkCache;

/**
 * Each x86 maintenance instruction against Intel SDM Vol. 3 §4.10.4.1: which TLB entries (current
 * PCID, other PCID, global) and which paging-structure-cache entries it removes and which it keeps,
 * its name in the results and its configured cost. The shared contract checks the neutral scopes;
 * this class checks what only x86 has: INVLPG dropping every PSC entry of the current PCID, INVPCID
 * type 0 naming another PCID and keeping globals, MOV CR3 with and without NOFLUSH, CR4.PGE on a
 * CPU without INVPCID, and INVLPGB/TLBSYNC.
 *
 * <p>Fixture: one root shared by PCIDs 1 and 2; A (user page at {@link #VA_A}) and F (a user page
 * in another PML4 slot) filled under PCID 1, A' (the same VA) under PCID 2, and G (a global kernel
 * page). PSC entries exist at levels 0-2 for A and F under PCID 1 and for A under PCID 2.
 */
final class X86InstructionsTest {
  private static final int PCID_1 = 1;
  private static final int PCID_2 = 2;
  private static final long VA_A = 0x0000_0000_0060_0000L;
  private static final long VA_F = 0x0000_4000_0000_0000L;
  private static final long VA_G = 0xFFFF_FFFF_8000_0000L;
  private static final int USER_RW =
      PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY;
  private static final Map<String, Object> COSTS =
      Map.of(
          "invlpgCycles",
          11,
          "invpcidAddressCycles",
          13,
          "invpcidContextCycles",
          17,
          "invpcidAllCycles",
          19,
          "cr4PgeToggleCycles",
          23,
          "movCr3Cycles",
          29,
          "movCr3NoflushCycles",
          31,
          "invlpgbCycles",
          37,
          "tlbsyncCycles",
          41,
          "invlpgbCompletionCycles",
          1009);

  private Machine machine;
  private PageTableWriter tables;
  private long root;

  @BeforeEach
  void defaultMachine() {
    build(Map.of());
  }

  private void build(Map<String, Object> extra) {
    Map<String, Object> config = new HashMap<>(extra);
    config.put("costs", COSTS);
    IsaProvider x86 = IsaRegistry.load().get("x86");
    machine =
        SmallMachines.build(x86, MachineSpecBuilder.forIsa("x86").isaValues(config).build(), 1);
    machine.actOn(0);
    tables = new PageTableWriter(machine);
    root = tables.newRootOnAllCores(PCID_1);
  }

  private long map(long va, int flags) {
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, va, pa, 3, flags);
    return pa;
  }

  private void load(int core, int pcid) {
    machine.core(core).context().setUser(root << PhysicalMemory.FRAME_SHIFT, pcid);
  }

  /** Fills A, F and G under PCID 1 and A' under PCID 2 on {@code core}, leaving PCID 1 loaded. */
  private void fill(int core) {
    if (!mapped) {
      map(VA_A, USER_RW);
      map(VA_F, USER_RW);
      map(VA_G, PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY);
      mapped = true;
    }
    load(core, PCID_2);
    assertThat(machine.translate(core, VA_A, AccessKind.READ)).isPositive();
    load(core, PCID_1);
    assertThat(machine.translate(core, VA_A, AccessKind.READ)).isPositive();
    assertThat(machine.translate(core, VA_F, AccessKind.READ)).isPositive();
    assertThat(machine.translate(core, VA_G, AccessKind.READ)).isPositive();
    assertThat(tlbSurvivors(core)).isEqualTo("AFGa");
    assertThat(pscSurvivors(core)).isEqualTo("AFa");
  }

  private boolean mapped;

  private boolean holds(int core, long va, int pcid, boolean global) {
    for (String name : new String[] {"l1d", "l2"}) {
      var tlb = machine.core(core).tlb(name);
      int slot = tlb.probe(va, pcid);
      if (slot >= 0 && tlb.isGlobal(slot) == global) {
        return true;
      }
    }
    return false;
  }

  /** Letters for the TLB entries still held: A, F (PCID 1), G (global), a (A under PCID 2). */
  private String tlbSurvivors(int core) {
    return (holds(core, VA_A, PCID_1, false) ? "A" : "")
        + (holds(core, VA_F, PCID_1, false) ? "F" : "")
        + (holds(core, VA_G, 0x7ff, true) ? "G" : "")
        + (holds(core, VA_A, PCID_2, false) ? "a" : "");
  }

  private boolean pscHolds(int core, long va, int pcid) {
    for (WalkCache cache : machine.core(core).walkCaches()) {
      if (cache != null && cache.lookup(va, pcid) >= 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Letters for the paging-structure-cache entries still held (any level): A, F (PCID 1), a (PCID
   * 2).
   */
  private String pscSurvivors(int core) {
    return (pscHolds(core, VA_A, PCID_1) ? "A" : "")
        + (pscHolds(core, VA_F, PCID_1) ? "F" : "")
        + (pscHolds(core, VA_A, PCID_2) ? "a" : "");
  }

  private long cycles(Runnable action) {
    long before = machine.now(0);
    action.run();
    return machine.now(0) - before;
  }

  // ---------------------------------------------------------------------------------------
  // INVLPG and INVPCID

  @Test
  void invlpg_removesThePageInTheCurrentPcid_andEveryPscEntryOfThatPcid() {
    fill(0);

    long cost =
        cycles(
            () ->
                machine.invalidate(
                    0, Invalidation.local(InvalidationScope.VA), VA_A, VA_A + 4096, PCID_1));

    assertThat(tlbSurvivors(0)).isEqualTo("FGa");
    assertThat(pscSurvivors(0))
        .as("F's PSC entries go too, whatever their address; PCID 2's stay")
        .isEqualTo("a");
    assertThat(cost).isEqualTo(11);
    assertThat(machine.stats().instructionCounts()).containsExactlyEntriesOf(Map.of("INVLPG", 1L));
  }

  @Test
  void invlpg_ofAGlobalPage_removesTheGlobalEntry() {
    fill(0);

    machine.invalidate(0, Invalidation.local(InvalidationScope.VA), VA_G, VA_G + 4096, PCID_1);

    assertThat(tlbSurvivors(0)).isEqualTo("AFa");
  }

  @Test
  void invpcidType0_removesThePageInTheNamedPcidOnly_keepsGlobals_dropsThatPcidsPscEntries() {
    fill(0);

    long cost =
        cycles(
            () -> {
              machine.invalidate(
                  0, Invalidation.local(InvalidationScope.VA), VA_A, VA_A + 4096, PCID_2);
              machine.invalidate(
                  0, Invalidation.local(InvalidationScope.VA), VA_G, VA_G + 4096, PCID_2);
            });

    assertThat(tlbSurvivors(0)).as("A (PCID 1) and the global G stay").isEqualTo("AFG");
    assertThat(pscSurvivors(0)).isEqualTo("AF");
    assertThat(cost).isEqualTo(2 * 13);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyEntriesOf(Map.of("INVPCID type 0", 2L));
  }

  @Test
  void invpcidType1_removesOnePcidsNonGlobalEntriesAndPscEntries() {
    fill(0);

    long cost =
        cycles(
            () -> machine.invalidate(0, Invalidation.local(InvalidationScope.ASID), 0, 0, PCID_2));

    assertThat(tlbSurvivors(0)).isEqualTo("AFG");
    assertThat(pscSurvivors(0)).isEqualTo("AF");
    assertThat(cost).isEqualTo(17);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyEntriesOf(Map.of("INVPCID type 1", 1L));
  }

  @Test
  void invpcidType2_removesEverything_globalsIncluded() {
    fill(0);

    long cost =
        cycles(() -> machine.invalidate(0, Invalidation.local(InvalidationScope.ALL), 0, 0, 0));

    assertThat(tlbSurvivors(0)).isEmpty();
    assertThat(pscSurvivors(0)).isEmpty();
    assertThat(cost).isEqualTo(19);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyEntriesOf(Map.of("INVPCID type 2", 1L));
  }

  @Test
  void invpcidType3_removesEveryNonGlobalEntry_keepsGlobals() {
    fill(0);

    long cost =
        cycles(
            () ->
                machine.invalidate(
                    0, Invalidation.local(InvalidationScope.ALL_NON_GLOBAL), 0, 0, 0));

    assertThat(tlbSurvivors(0)).isEqualTo("G");
    assertThat(pscSurvivors(0)).isEmpty();
    assertThat(cost).isEqualTo(19);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyEntriesOf(Map.of("INVPCID type 3", 1L));
  }

  @Test
  void localInvalidation_leavesOtherCoresAlone() {
    fill(0);
    fill(1);

    machine.invalidate(0, Invalidation.local(InvalidationScope.ALL), 0, 0, 0);

    assertThat(tlbSurvivors(1)).isEqualTo("AFGa");
    assertThat(pscSurvivors(1)).isEqualTo("AFa");
  }

  // ---------------------------------------------------------------------------------------
  // MOV CR3, CR4.PGE

  @Test
  void movCr3_withoutNoflush_removesTheNewPcidsEntriesOnly() {
    fill(0);

    long cost =
        cycles(() -> machine.writeContext(0, root << PhysicalMemory.FRAME_SHIFT, PCID_2, true));

    assertThat(machine.core(0).context().asid()).isEqualTo(PCID_2);
    assertThat(tlbSurvivors(0)).isEqualTo("AFG");
    assertThat(pscSurvivors(0)).isEqualTo("AF");
    assertThat(cost).isEqualTo(29);
    assertThat(machine.stats().instructionCounts()).containsExactlyEntriesOf(Map.of("MOV CR3", 1L));
  }

  @Test
  void movCr3_withNoflush_keepsEveryEntry() {
    fill(0);

    long cost =
        cycles(() -> machine.writeContext(0, root << PhysicalMemory.FRAME_SHIFT, PCID_2, false));

    assertThat(tlbSurvivors(0)).isEqualTo("AFGa");
    assertThat(pscSurvivors(0)).isEqualTo("AFa");
    assertThat(cost).isEqualTo(31);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyEntriesOf(Map.of("MOV CR3 NOFLUSH", 1L));
  }

  @Test
  void pcidTags_keepEachAddressSpacesTranslationsAcrossCr3Writes() {
    long rootB = tables.newTable();
    long paA = map(VA_A, USER_RW);
    long paB = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(rootB, VA_A, paB, 3, USER_RW);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(paA);

    machine.writeContext(0, rootB << PhysicalMemory.FRAME_SHIFT, PCID_2, false);
    assertThat(machine.translate(0, VA_A, AccessKind.READ))
        .as("PCID 2 misses, walks rootB")
        .isEqualTo(paB);
    long walks = machine.stats().walks();
    machine.writeContext(0, root << PhysicalMemory.FRAME_SHIFT, PCID_1, false);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(paA);
    machine.writeContext(0, rootB << PhysicalMemory.FRAME_SHIFT, PCID_2, false);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(paB);

    assertThat(machine.stats().walks())
        .as("both spaces' entries survive NOFLUSH switches")
        .isEqualTo(walks);
  }

  @Test
  void pcidOff_everyCr3WriteFlushesNonGlobalEntries_andNoflushIsRejected() {
    build(Map.of("pcid", false));
    load(0, 0);
    long rootB = tables.newTable();
    long paA = map(VA_A, USER_RW);
    map(VA_G, PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY);
    long paB = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(rootB, VA_A, paB, 3, USER_RW);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(paA);
    assertThat(machine.translate(0, VA_G, AccessKind.READ)).isPositive();

    assertThatThrownBy(() -> machine.writeContext(0, rootB << PhysicalMemory.FRAME_SHIFT, 0, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NOFLUSH");
    machine.writeContext(0, rootB << PhysicalMemory.FRAME_SHIFT, 0, true);

    assertThat(machine.translate(0, VA_A, AccessKind.READ))
        .as("no stale entry of the old space")
        .isEqualTo(paB);
    assertThat(holds(0, VA_G, 0, true)).as("global entries survive MOV CR3").isTrue();
  }

  @Test
  void withoutInvpcid_aGlobalFlushIsACr4PgeToggle_andInvpcidFormsAreRefused() {
    build(Map.of("invpcid", false));
    fill(0);

    long cost =
        cycles(() -> machine.invalidate(0, Invalidation.local(InvalidationScope.ALL), 0, 0, 0));

    assertThat(tlbSurvivors(0)).isEmpty();
    assertThat(pscSurvivors(0)).isEmpty();
    assertThat(cost).isEqualTo(23);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyEntriesOf(Map.of("CR4.PGE toggle", 1L));
    assertThatThrownBy(
            () -> machine.invalidate(0, Invalidation.local(InvalidationScope.ASID), 0, 0, PCID_2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("INVPCID type 1");
    assertThatThrownBy(
            () ->
                machine.invalidate(
                    0, Invalidation.local(InvalidationScope.VA), VA_A, VA_A + 4096, PCID_2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("INVPCID type 0");
  }

  // ---------------------------------------------------------------------------------------
  // accessed and dirty flags

  @Test
  void firstStoreThroughAnEntryWithDirtyClear_walksToSetDirty_laterStoresDoNot() {
    long pa = map(VA_A, PteFlags.WRITE | PteFlags.USER);
    long leafTable = tables.tableAt(root, VA_A, 3, false);
    int index = machine.format().index(VA_A, 3);

    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(pa);
    long afterRead = machine.memory().readDescriptor(leafTable, index);
    assertThat(afterRead & X86PageTableFormat.ACCESSED).as("the walk set A").isNotZero();
    assertThat(afterRead & X86PageTableFormat.DIRTY).isZero();
    long walks = machine.stats().walks();

    assertThat(machine.translate(0, VA_A, AccessKind.WRITE)).isEqualTo(pa);
    assertThat(machine.stats().walks()).as("the cached clear D forces a walk").isEqualTo(walks + 1);
    assertThat(machine.memory().readDescriptor(leafTable, index) & X86PageTableFormat.DIRTY)
        .isNotZero();

    machine.translate(0, VA_A + 8, AccessKind.WRITE);
    machine.translate(0, VA_A + 16, AccessKind.WRITE);
    assertThat(machine.stats().walks()).as("the refilled entry caches D").isEqualTo(walks + 1);
  }

  @Test
  void storeThroughAStaleCleanEntry_walksAndFaults_ratherThanWritingThroughIt() {
    map(VA_A, PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isPositive();
    tables.clear(root, VA_A, 3); // unmapped, not yet invalidated

    assertThat(machine.translate(0, VA_A, AccessKind.READ))
        .as("loads may still use the entry")
        .isPositive();
    assertThat(machine.translate(0, VA_A, AccessKind.WRITE))
        .as("the D-setting walk finds no page")
        .isEqualTo(-1);
    assertThat(machine.unresolvedFaults()).isEqualTo(1);
  }

  @Test
  void walkThroughAFreedTable_isReported_andTheHardwareWritesNoFlagIntoIt() {
    map(VA_A, PteFlags.WRITE | PteFlags.USER);
    map(VA_A + 4096, PteFlags.WRITE | PteFlags.USER);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isPositive(); // PDE cache -> table T
    long table = tables.tableAt(root, VA_A, 3, false);
    machine.memory().free(table); // freed with its stale contents, no invalidation

    machine.translate(0, VA_A + 4096, AccessKind.WRITE);

    assertThat(machine.oracle().count(org.mmuemu.core.oracle.ViolationKind.FREED_TABLE_WALK))
        .isPositive();
    assertThat(
            machine.memory().readDescriptor(table, machine.format().index(VA_A + 4096, 3))
                & (X86PageTableFormat.ACCESSED | X86PageTableFormat.DIRTY))
        .isZero();
  }

  @Test
  void storeThroughAnEntryWithDirtySet_needsNoWalk() {
    map(VA_A, USER_RW);
    machine.translate(0, VA_A, AccessKind.READ);
    long walks = machine.stats().walks();

    machine.translate(0, VA_A, AccessKind.WRITE);

    assertThat(machine.stats().walks()).isEqualTo(walks);
  }

  @Test
  void fetchFromANoExecutePage_faults_fromAnExecutablePage_translates() {
    long nx = map(VA_A, USER_RW);
    long text = map(VA_A + 0x1000, PteFlags.USER | PteFlags.EXEC | PteFlags.ACCESSED);

    assertThat(machine.translate(0, VA_A + 0x1000, AccessKind.FETCH)).isEqualTo(text);
    assertThat(machine.translate(0, VA_A, AccessKind.FETCH)).isEqualTo(-1);
    assertThat(machine.translate(0, VA_A, AccessKind.READ)).isEqualTo(nx);
  }

  // ---------------------------------------------------------------------------------------
  // large pages

  @Test
  void twoMibPage_translatesEveryOffset_withOneTlbEntry_andInvlpgOfAnyPartRemovesIt() {
    long va = 0x0000_0000_4000_0000L;
    long pa =
        machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, va, pa, 2, USER_RW);

    assertThat(machine.translate(0, va + 0x1234, AccessKind.READ)).isEqualTo(pa + 0x1234);
    long walks = machine.stats().walks();
    assertThat(machine.translate(0, va + 0x1F_F008, AccessKind.WRITE)).isEqualTo(pa + 0x1F_F008);
    assertThat(machine.stats().walks()).isEqualTo(walks);

    machine.invalidate(
        0, Invalidation.local(InvalidationScope.VA), va + 0x10_0000, va + 0x10_1000, PCID_1);
    machine.translate(0, va, AccessKind.READ);
    assertThat(machine.stats().walks()).as("the whole 2 MiB entry went").isEqualTo(walks + 1);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void oneGibPage_translatesThroughAPdpteLeaf_inThreeReadsFewer() {
    var spec = MachineSpecBuilder.forIsa("x86").cores(1).memoryBytes(2L << 30).build();
    machine = SmallMachines.build(IsaRegistry.load().get("x86"), spec, 1);
    tables = new PageTableWriter(machine);
    root = tables.newRootOnAllCores(PCID_1);
    long va = 0x0000_0080_0000_0000L;
    long pa =
        machine.memory().allocateContiguous(1 << 18, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, va, pa, 1, USER_RW);

    assertThat(machine.translate(0, va + 0x2345_6789L, AccessKind.READ))
        .isEqualTo(pa + 0x2345_6789L);
    assertThat(machine.stats().walkMemoryRefs()).as("PML4E and PDPTE only").isEqualTo(2);
    long walks = machine.stats().walks();
    assertThat(machine.translate(0, va + 0x3FFF_F000L, AccessKind.READ))
        .isEqualTo(pa + 0x3FFF_F000L);
    assertThat(machine.stats().walks()).as("the l2 level holds 1 GiB entries").isEqualTo(walks);
    assertThat(machine.oracle().total()).isZero();
  }

  // ---------------------------------------------------------------------------------------
  // INVLPGB / TLBSYNC

  @Test
  void invlpgb_reachesEveryCore_andTlbsyncWaitsForItsCompletion() {
    build(Map.of("invlpgb", true));
    fill(0);
    fill(1);
    long start = machine.now(0);
    long otherCore = machine.now(1);

    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.VA), VA_A, VA_A + 4096, PCID_1);
    long waited = machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(tlbSurvivors(0)).isEqualTo("FGa");
    assertThat(tlbSurvivors(1)).isEqualTo("FGa");
    assertThat(waited)
        .as("TLBSYNC waits until 1009 cycles after the INVLPGB issued")
        .isEqualTo(1009);
    assertThat(machine.now(0) - start).isEqualTo(37 + 1009);
    assertThat(machine.now(1)).as("no interrupt: the other core pays nothing").isEqualTo(otherCore);
    assertThat(machine.stats().instructionCounts())
        .containsExactlyInAnyOrderEntriesOf(Map.of("INVLPGB", 1L, "TLBSYNC", 1L));
    assertThat(machine.stats().ipis()).isZero();
  }

  @Test
  void invlpgb_finalTranslationOnly_keepsThePscEntries_andCanNameEveryPcid() {
    build(Map.of("invlpgb", true));
    fill(0);

    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS).withLastLevelOnly(true),
        VA_A,
        VA_A + 4096,
        PCID_1);

    assertThat(tlbSurvivors(0)).as("A in both PCIDs").isEqualTo("FG");
    assertThat(pscSurvivors(0)).isEqualTo("AFa");
  }

  @Test
  void invlpgb_coversAtMostInvlpgbMaxPagesStrides_countedInTheOperationsStride() {
    build(Map.of("invlpgb", true, "invlpgbMaxPages", 2));
    Invalidation pages = Invalidation.broadcast(InvalidationScope.VA);

    machine.invalidate(0, pages, VA_A, VA_A + 2 * 4096, PCID_1);
    assertThatThrownBy(() -> machine.invalidate(0, pages, VA_A, VA_A + 3 * 4096, PCID_1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("INVLPGB can encode");
    long twoMib = 2L << 20;
    machine.invalidate(0, pages.withStrideShift(21), 0, 2 * twoMib, PCID_1);
    assertThatThrownBy(
            () -> machine.invalidate(0, pages.withStrideShift(21), 4096, 4096 + twoMib, PCID_1))
        .as("not aligned to the 2 MiB stride")
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(machine.stats().instructionCounts()).containsExactlyEntriesOf(Map.of("INVLPGB", 2L));
  }

  @Test
  void levelsOtherThan4Or5_areRejected() {
    var section = SmallMachines.isaSection("x86", Map.of("levels", 3));

    assertThat(IsaRegistry.load().get("x86").validate(section))
        .singleElement()
        .asString()
        .contains("/x86/levels")
        .contains("4 or 5");
  }

  @Test
  void withoutInvlpgb_thereIsNoBroadcastAndNoTlbsync() {
    assertThat(machine.isa().maintenance().hasBroadcast()).isFalse();
    assertThat(machine.isa().maintenance().barrierName(BarrierKind.BROADCAST_COMPLETE)).isNull();
  }
}
