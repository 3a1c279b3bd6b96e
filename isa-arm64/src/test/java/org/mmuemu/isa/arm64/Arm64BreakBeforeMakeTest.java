package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.testkit.PageTableWriter;

/**
 * The break-before-make oracle (DOMAIN.md §4.4 and scenario 4.6.1): changing a live entry's output
 * address, its size (table and block, the contiguous bit) or its memory type is allowed only
 * through an invalid entry, a TLBI that covers the old entry (one that drops walk-cache entries
 * when the old entry was a table) and a DSB that completes it. Each test leaves out one step, or
 * changes only what may change live, and checks the oracle's verdict.
 */
final class Arm64BreakBeforeMakeTest {
  private static final int ASID = 1;
  private static final long VA = 0x0000_0000_4020_0000L;
  private static final int USER_RW = PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED;

  private Machine machine;
  private PageTableWriter tables;
  private long root;

  @BeforeEach
  void build() {
    machine = Arm64TestMachines.build(2, Map.of());
    tables = new PageTableWriter(machine);
    root = tables.newTable();
  }

  private long frame() {
    return machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
  }

  private long bbm() {
    return machine.oracle().count(ViolationKind.BREAK_BEFORE_MAKE);
  }

  @Test
  void newOutputAddress_writtenOverALiveEntry_isReported() {
    tables.map(root, VA, frame(), 3, USER_RW);

    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .contains("output address changed")
        .contains("while the entry was live");
  }

  @Test
  void invalidTlbiDsb_thenNewOutput_isFine() {
    tables.map(root, VA, frame(), 3, USER_RW);

    breakPage(VA);
    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isZero();
  }

  // The break of a page's entry done right: invalid entry, last-level TLBI of the page, DSB.
  private void breakPage(long va) {
    tables.clear(root, va, 3);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        va,
        va + 0x1000,
        ASID);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
  }

  @Test
  void invalidThenNewOutput_withoutTlbi_isReported() {
    tables.map(root, VA, frame(), 3, USER_RW);

    tables.clear(root, VA, 3);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail()).contains("before any TLBI covering it");
  }

  @Test
  void invalidTlbiThenNewOutput_withoutDsb_isReported() {
    tables.map(root, VA, frame(), 3, USER_RW);

    tables.clear(root, VA, 3);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        ASID);
    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .contains("before a DSB completed the TLBI");
  }

  @Test
  void aTableFrameUsedAgainForAnotherRange_isJudgedAtItsNewAddresses() {
    tables.map(root, VA, frame(), 3, USER_RW);
    long pteTable = tables.tableAt(root, VA, 3, false);
    tables.clear(root, VA, 2); // unhook the PTE table, with a TLBI that drops walk-cache entries
    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.VA), VA, VA + 0x1000, ASID);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    long page = frame();
    machine.memory().free(pteTable);
    long elsewhere = VA + (5L << 21); // another 2 MiB range under the same level-2 table

    tables.map(root, elsewhere, page, 3, USER_RW);
    assertThat(tables.tableAt(root, elsewhere, 3, false))
        .as("frame used again")
        .isEqualTo(pteTable);
    breakPage(elsewhere);
    tables.map(root, elsewhere, frame(), 3, USER_RW);

    assertThat(bbm()).isZero();
  }

  @Test
  void aBreakAfterACompletedOne_startsUncovered() {
    tables.map(root, VA, frame(), 3, USER_RW);
    tables.map(root, VA + 0x1000, frame(), 3, USER_RW);
    breakPage(VA); // covered and completed: it leaves the pending set

    tables.clear(root, VA + 0x1000, 3);
    tables.map(root, VA + 0x1000, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail()).contains("before any TLBI covering it");
  }

  @Test
  void tlbiOfAnotherPage_doesNotCoverTheBrokenEntry() {
    tables.map(root, VA, frame(), 3, USER_RW);

    tables.clear(root, VA, 3);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA + 0x1000,
        VA + 0x2000,
        ASID);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
  }

  @Test
  void dsbOnAnotherCore_doesNotCompleteThisCoresTlbi() {
    tables.map(root, VA, frame(), 3, USER_RW);

    tables.clear(root, VA, 3);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        ASID);
    machine.barrier(1, BarrierKind.BROADCAST_COMPLETE);
    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
  }

  @Test
  void localTlbi_onAMulticoreMachine_doesNotCount() {
    tables.map(root, VA, frame(), 3, USER_RW);

    tables.clear(root, VA, 3);
    machine.invalidate(
        0, Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true), VA, VA + 0x1000, ASID);
    machine.barrier(0, BarrierKind.LOCAL_COMPLETE);
    tables.map(root, VA, frame(), 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
  }

  @Test
  void asidFlush_coversNonGlobalEntries_butNotGlobalOnes() {
    long userVa = VA;
    long globalVa = VA + 0x1000;
    tables.map(root, userVa, frame(), 3, USER_RW);
    tables.map(root, globalVa, frame(), 3, USER_RW | PteFlags.GLOBAL);

    tables.clear(root, userVa, 3);
    tables.clear(root, globalVa, 3);
    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.ASID), 0, 0, ASID);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    tables.map(root, userVa, frame(), 3, USER_RW);
    tables.map(root, globalVa, frame(), 3, USER_RW | PteFlags.GLOBAL);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).va()).isEqualTo("0x40201000");
  }

  @Test
  void tableReplacedByBlock_withALastLevelTlbi_isReported() {
    tables.map(root, VA, frame(), 3, USER_RW); // creates the level-3 table under VA's 2 MiB
    long blockPa =
        machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;

    tables.clear(root, VA, 2);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        0);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    tables.map(root, VA, blockPa, 2, USER_RW);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .contains("a table descriptor was replaced by a block");
  }

  @Test
  void tableReplacedByBlock_withVaae1isAndDsb_isFine() {
    tables.map(root, VA, frame(), 3, USER_RW);
    long blockPa =
        machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;

    tables.clear(root, VA, 2);
    machine.barrier(0, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidate(
        0, Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS), VA, VA + 0x1000, 0);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    machine.barrier(0, BarrierKind.CONTEXT_SYNC);
    tables.map(root, VA, blockPa, 2, USER_RW);

    assertThat(bbm()).isZero();
  }

  @Test
  void asidFlush_coversAUserTable_butNotAKernelTable() {
    long kernelVa = 0xFFFF_8000_4020_0000L;
    for (long va : new long[] {VA, kernelVa}) {
      tables.map(root, va, frame(), 3, USER_RW);
      tables.clear(root, va, 2);
    }
    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.ASID), 0, 0, ASID);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    for (long va : new long[] {VA, kernelVa}) {
      tables.map(
          root,
          va,
          machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT,
          2,
          USER_RW);
    }

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).va()).isEqualTo("0xffff800040200000");
  }

  @Test
  void tableReplacedByBlock_live_isReported() {
    tables.map(root, VA, frame(), 3, USER_RW);
    long blockPa =
        machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    long level2Table = tables.tableAt(root, VA, 2, false);

    machine
        .memory()
        .writeDescriptor(
            level2Table,
            machine.format().index(VA, 2),
            machine.format().encodeLeaf(blockPa, 2, USER_RW));

    assertThat(bbm()).isEqualTo(1);
  }

  @Test
  void contiguousBitSetOnALiveEntry_isReported() {
    long pa = frame();
    tables.map(root, VA, pa, 3, USER_RW);

    tables.map(root, VA, pa, 3, USER_RW | PteFlags.CONTIGUOUS);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail()).contains("contiguous bit was set");
  }

  @Test
  void nonGlobalEntryMadeGlobal_isReported_butGlobalMadeNonGlobalIsNot() {
    long pa = frame();
    tables.map(root, VA, pa, 3, USER_RW);
    tables.map(root, VA, pa, 3, USER_RW | PteFlags.GLOBAL);
    tables.map(root, VA, pa, 3, USER_RW);

    assertThat(bbm()).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .contains("non-global entry became global");
  }

  @Test
  void permissionAccessAndDirtyChanges_mayBeMadeLive() {
    long pa = frame();
    tables.map(root, VA, pa, 3, USER_RW);

    tables.map(root, VA, pa, 3, PteFlags.USER);
    tables.map(root, VA, pa, 3, USER_RW | PteFlags.DIRTY | PteFlags.EXEC);

    assertThat(bbm()).isZero();
  }

  @Test
  void memoryTypeChange_isReported() {
    long pa = frame();
    tables.map(root, VA, pa, 3, USER_RW);
    long table = tables.tableAt(root, VA, 3, false);
    int index = machine.format().index(VA, 3);
    long descriptor = machine.memory().readDescriptor(table, index);

    machine.memory().writeDescriptor(table, index, descriptor | (0b100L << 2)); // AttrIndx 4

    assertThat(bbm()).isEqualTo(1);
  }

  @Test
  void checkOff_reportsNothing() {
    Machine unchecked = Arm64TestMachines.build(2, Map.of("breakBeforeMakeCheck", false));
    PageTableWriter writer = new PageTableWriter(unchecked);
    long uncheckedRoot = writer.newTable();
    writer.map(uncheckedRoot, VA, 0x10_0000, 3, USER_RW);

    writer.map(uncheckedRoot, VA, 0x20_0000, 3, USER_RW);

    assertThat(unchecked.oracle().total()).isZero();
  }
}
