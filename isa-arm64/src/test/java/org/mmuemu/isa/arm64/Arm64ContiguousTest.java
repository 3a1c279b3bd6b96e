package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.tlb.SetAssociativeTlb;

/**
 * The contiguous bit (Arm ARM D8.6.1): 16 adjacent pages (64 KiB) or 16 adjacent 2 MiB blocks (32
 * MiB) with the hint are held as one TLB entry wherever a TLB level lists that size, so any address
 * of the run hits after one walk, and invalidating any one page drops the whole entry. A level
 * without the size holds the 4 KiB piece. A misprogrammed run is still used as the hardware may use
 * it (the run entry, built from the descriptor walked) and is reported as {@link
 * ViolationKind#CONTIGUOUS_MISPROGRAMMED}.
 */
final class Arm64ContiguousTest {
  private static final int ASID = 1;
  private static final long VA = 0x0000_0000_4000_0000L;
  private static final int USER_RW =
      PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY;

  private Machine machine;
  private PageTableWriter tables;
  private long root;

  @BeforeEach
  void build() {
    machine = Arm64TestMachines.build(2, Map.of());
    tables = new PageTableWriter(machine);
    root = tables.newTable();
    for (int core = 0; core < 2; core++) {
      machine.core(core).context().setUser(root << PhysicalMemory.FRAME_SHIFT, ASID);
    }
  }

  private long mapRun(long va, int entries, int level, int flags) {
    long entryBytes = 1L << machine.format().levelShift(level);
    int frames = (int) (entries * entryBytes >>> PhysicalMemory.FRAME_SHIFT);
    long pa =
        machine.memory().allocateContiguous(frames, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    for (int i = 0; i < entries; i++) {
      tables.map(root, va + i * entryBytes, pa + i * entryBytes, level, flags);
    }
    return pa;
  }

  @Test
  void contiguousPages_areOneTlbEntry_hitAnywhereInThe64KiB() {
    long pa = mapRun(VA, 16, 3, USER_RW | PteFlags.CONTIGUOUS);

    assertThat(machine.translate(0, VA + 0x5123, AccessKind.READ)).isEqualTo(pa + 0x5123);
    long walks = machine.stats().walks();
    for (long offset = 0; offset < 0x10000; offset += 0x1000) {
      assertThat(machine.translate(0, VA + offset + 8, AccessKind.READ)).isEqualTo(pa + offset + 8);
    }

    assertThat(machine.stats().walks()).isEqualTo(walks);
    SetAssociativeTlb l1d = machine.core(0).tlb("l1d");
    assertThat(l1d.pageShiftOf(l1d.probe(VA + 0xF000, ASID))).isEqualTo(16);
    assertThat(l1d.occupancy()).isEqualTo(1);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void invalidatingOnePage_dropsTheWholeContiguousEntry() {
    mapRun(VA, 16, 3, USER_RW | PteFlags.CONTIGUOUS);
    machine.translate(0, VA, AccessKind.READ);

    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA + 0x7000,
        VA + 0x8000,
        ASID);

    assertThat(machine.core(0).tlb("l1d").probe(VA + 0xF000, ASID)).isNegative();
    assertThat(machine.core(0).tlb("l2").probe(VA, ASID)).isNegative();
    long walks = machine.stats().walks();
    machine.translate(0, VA + 0xF000, AccessKind.READ);
    assertThat(machine.stats().walks()).isEqualTo(walks + 1);
  }

  @Test
  void levelWithoutThe64KiBSize_holdsThe4KiBPiece() {
    long pa = mapRun(VA, 16, 3, USER_RW | PteFlags.CONTIGUOUS | PteFlags.EXEC);

    assertThat(machine.translate(0, VA + 0x3010, AccessKind.FETCH)).isEqualTo(pa + 0x3010);

    SetAssociativeTlb l1i = machine.core(0).tlb("l1i");
    int slot = l1i.probe(VA + 0x3000, ASID);
    assertThat(l1i.pageShiftOf(slot)).isEqualTo(12);
    assertThat(l1i.translate(slot, VA + 0x3010)).isEqualTo(pa + 0x3010);
    assertThat(l1i.probe(VA + 0x4000, ASID)).isNegative();
    assertThat(machine.core(0).tlb("l2").pageShiftOf(machine.core(0).tlb("l2").probe(VA, ASID)))
        .isEqualTo(16);
  }

  @Test
  void contiguousBlocks_areOne32MiBEntry() {
    long blockVa = 0x0000_0000_8000_0000L; // 32 MiB aligned
    long pa = mapRun(blockVa, 16, 2, USER_RW | PteFlags.CONTIGUOUS);

    assertThat(machine.translate(0, blockVa + (29L << 20) + 0x123, AccessKind.READ))
        .isEqualTo(pa + (29L << 20) + 0x123);

    SetAssociativeTlb l2 = machine.core(0).tlb("l2");
    assertThat(l2.pageShiftOf(l2.probe(blockVa, ASID))).isEqualTo(25);
    SetAssociativeTlb l1d = machine.core(0).tlb("l1d");
    assertThat(l1d.pageShiftOf(l1d.probe(blockVa + (29L << 20), ASID))).isEqualTo(21);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void runWithOneEntryLackingTheBit_isReported_andTheRunEntryIsStillUsed() {
    long pa = mapRun(VA, 16, 3, USER_RW | PteFlags.CONTIGUOUS);
    tables.map(root, VA + 0x9000, pa + 0x9000, 3, USER_RW);

    assertThat(machine.translate(0, VA, AccessKind.READ)).isEqualTo(pa);

    assertThat(machine.oracle().count(ViolationKind.CONTIGUOUS_MISPROGRAMMED)).isEqualTo(1);
    assertThat(machine.oracle().recorded())
        .filteredOn(v -> v.kind().equals("CONTIGUOUS_MISPROGRAMMED"))
        .singleElement()
        .satisfies(v -> assertThat(v.detail()).contains("misprogrammed at index 9"));
    // Clearing the bit of a live entry is itself a break-before-make violation.
    assertThat(machine.oracle().count(ViolationKind.BREAK_BEFORE_MAKE)).isEqualTo(1);
    assertThat(machine.translate(0, VA + 0x9000, AccessKind.READ)).isEqualTo(pa + 0x9000);
    assertThat(machine.oracle().count(ViolationKind.CONTIGUOUS_MISPROGRAMMED))
        .isEqualTo(1); // a hit, no walk
  }

  @Test
  void runWithAnInvalidEntry_isReported_andMayTranslateThroughTheRun() {
    long pa = mapRun(VA, 16, 3, USER_RW | PteFlags.CONTIGUOUS);
    tables.clear(root, VA + 0xA000, 3);

    machine.translate(0, VA, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.CONTIGUOUS_MISPROGRAMMED)).isEqualTo(1);
    // Either size may be used: this model uses the run, so the invalid page still translates.
    assertThat(machine.translate(0, VA + 0xA000, AccessKind.READ)).isEqualTo(pa + 0xA000);
  }

  @Test
  void runWithAMisalignedOutput_isReported() {
    long pa = machine.memory().allocateContiguous(32, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    for (int i = 0; i < 16; i++) {
      tables.map(
          root, VA + i * 0x1000L, pa + 0x1000 + i * 0x1000L, 3, USER_RW | PteFlags.CONTIGUOUS);
    }

    machine.translate(0, VA + 0x2000, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.CONTIGUOUS_MISPROGRAMMED)).isEqualTo(1);
  }

  @Test
  void runWhoseEntriesDifferOnlyInAccessAndDirty_isWellFormed() {
    long pa = mapRun(VA, 16, 3, USER_RW | PteFlags.CONTIGUOUS);
    tables.map(
        root, VA + 0x4000, pa + 0x4000, 3, PteFlags.WRITE | PteFlags.USER | PteFlags.CONTIGUOUS);

    machine.translate(0, VA, AccessKind.READ);

    assertThat(machine.oracle().total()).isZero();
  }
}
