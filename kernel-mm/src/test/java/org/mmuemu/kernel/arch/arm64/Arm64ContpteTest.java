package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.arch.arm64.Arm64Kernels.USER_VA;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;

/**
 * contpte for user mappings (DOMAIN.md §4.5): aligned 64 KiB runs of consecutive frames are
 * mapped or folded with the contiguous bit and then cost one TLB entry; fold and unfold go
 * through clear, flush, rewrite, so the break-before-make oracle stays silent and no core keeps
 * an entry of the old size; runs that do not qualify are left alone.
 */
final class Arm64ContpteTest {
  private static final int FLAGS = PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED;

  private Kernel kernel;
  private Machine machine;
  private Arm64Contpte contpte;
  private Mm mm;

  @BeforeEach
  void boot() {
    kernel = Arm64Kernels.boot(2);
    machine = kernel.machine();
    contpte = new Arm64Contpte(kernel, Arm64Kernels.policy(kernel));
    mm = Arm64Kernels.process(kernel, 32);
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
  }

  private long contiguousFrames(int count) {
    return machine.memory().allocateContiguous(count, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
  }

  private boolean contiguousBitAt(long va) {
    long d = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    return (machine.format().flags(d, 3) & PteFlags.CONTIGUOUS) != 0;
  }

  private int entryShift(int core, long va) {
    SetAssociativeTlb l1d = machine.core(core).tlb("l1d");
    int slot = l1d.probe(va, mm.asid());
    return slot < 0 ? -1 : l1d.pageShiftOf(slot);
  }

  @Test
  void setPtes_alignedRun_getsTheBit_andOneTlbEntry() {
    long pa = contiguousFrames(16);

    contpte.setPtes(0, mm, USER_VA, pa, 16, FLAGS);
    machine.translate(1, USER_VA + 0x3000, AccessKind.READ);

    assertThat(contiguousBitAt(USER_VA)).isTrue();
    assertThat(contiguousBitAt(USER_VA + 0xF000)).isTrue();
    assertThat(entryShift(1, USER_VA + 0xF000)).isEqualTo(16);
    assertThat(machine.translate(1, USER_VA + 0xE008, AccessKind.READ)).isEqualTo(pa + 0xE008);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void setPtes_misalignedFrames_getNoBit() {
    long pa = contiguousFrames(32) + 0x1000;

    contpte.setPtes(0, mm, USER_VA, pa, 16, FLAGS);

    assertThat(contiguousBitAt(USER_VA)).isFalse();
    assertThat(contiguousBitAt(USER_VA + 0xF000)).isFalse();
  }

  @Test
  void unfold_clearsTheBitBreakBeforeMake_andDropsTheRunEntryEverywhere() {
    contpte.setPtes(0, mm, USER_VA, contiguousFrames(16), 16, FLAGS);
    machine.translate(1, USER_VA, AccessKind.READ);

    assertThat(contpte.tryUnfold(0, mm, USER_VA + 0x5000)).isTrue();

    for (int i = 0; i < 16; i++) {
      assertThat(contiguousBitAt(USER_VA + i * 0x1000L)).isFalse();
    }
    assertThat(entryShift(1, USER_VA)).isEqualTo(-1);
    assertThat(machine.stats().instructionCounts()).containsEntry("TLBI VALE1IS", 16L).containsEntry("DSB ISH", 1L);
    assertThat(kernel.counters()).containsEntry("contpteUnfolds", 1L);
    assertThat(machine.oracle().total()).isZero();
    machine.translate(1, USER_VA, AccessKind.READ);
    assertThat(entryShift(1, USER_VA)).isEqualTo(12);
  }

  @Test
  void fold_setsTheBitBreakBeforeMake_keepingGatheredDirtyState() {
    long pa = contiguousFrames(16);
    contpte.setPtes(0, mm, USER_VA, pa, 16, FLAGS);
    contpte.tryUnfold(0, mm, USER_VA);
    kernel.tables().updateFlags(mm.rootPfn(), USER_VA + 0x7000, FLAGS | PteFlags.DIRTY, 0);

    assertThat(contpte.tryFold(0, mm, USER_VA + 0x2000)).isTrue();

    for (int i = 0; i < 16; i++) {
      long d = kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA + i * 0x1000L);
      assertThat(machine.format().flags(d, 3) & (PteFlags.CONTIGUOUS | PteFlags.DIRTY))
          .isEqualTo(PteFlags.CONTIGUOUS | PteFlags.DIRTY);
      assertThat(machine.format().outputPa(d, 3)).isEqualTo(pa + i * 0x1000L);
    }
    assertThat(kernel.counters()).containsEntry("contpteFolds", 1L);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void fold_refusesRunsThatDoNotQualify() {
    long pa = contiguousFrames(32);
    contpte.setPtes(0, mm, USER_VA, pa + 0x1000, 16, FLAGS); // frames not 64 KiB aligned
    contpte.setPtes(0, mm, USER_VA + 0x10000, pa + 0x10000, 15, FLAGS); // one page short
    kernel.tables().map(mm.rootPfn(), USER_VA + 0x1F000, 0, 3, FLAGS, 0);

    assertThat(contpte.tryFold(0, mm, USER_VA)).isFalse();
    assertThat(contpte.tryFold(0, mm, USER_VA + 0x10000)).isFalse();
    assertThat(contiguousBitAt(USER_VA)).isFalse();
  }

  @Test
  void fold_refusesRunsWithDifferentPermissions() {
    contpte.setPtes(0, mm, USER_VA, contiguousFrames(16), 16, FLAGS);
    contpte.tryUnfold(0, mm, USER_VA);
    kernel.tables().updateFlags(mm.rootPfn(), USER_VA + 0x3000, PteFlags.USER | PteFlags.ACCESSED, 0);

    assertThat(contpte.tryFold(0, mm, USER_VA)).isFalse();
    assertThat(Map.of("folds", kernel.counters().getOrDefault("contpteFolds", 0L))).containsEntry("folds", 0L);
  }
}
