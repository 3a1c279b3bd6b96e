package org.mmuemu.kernel.arch.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Scenario 4.6.1 of DOMAIN.md: a kernel 2 MiB range mapped by a PTE table, which another core's
 * walk cache remembers, is replaced by a 2 MiB block. Linux's way ({@code pmd_free_pte_page}: clear
 * the pmd, {@code __flush_tlb_kernel_pgtable}, free the table, then set the block) passes the
 * break-before-make oracle and leaves no walk through the freed table; skipping the flush is
 * reported twice over: as BREAK_BEFORE_MAKE, and as FREED_TABLE_WALK when the other core walks
 * through its stale walk-cache entry.
 */
final class Arm64HugeVmapBbmTest {
  private static final long KERNEL_VA = 0xFFFF_8000_4000_0000L; // 2 MiB aligned
  private static final int KERNEL_FLAGS =
      PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY;

  private Kernel kernel;
  private Machine machine;
  private PageTableFormat format;
  private long kernelRoot;
  private long pmdTable;
  private long pteTable;
  private long blockPa;

  @BeforeEach
  void mapWithAPteTable() {
    kernel = KernelBoot.on("arm64").cores(2).contpteTlbs().boot();
    machine = kernel.machine();
    format = machine.format();
    kernelRoot = machine.core(0).context().kernelRootPa() >>> PhysicalMemory.FRAME_SHIFT;
    long pagePa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    kernel.tables().map(kernelRoot, KERNEL_VA, pagePa, 3, KERNEL_FLAGS, 0);
    kernel.tables().map(kernelRoot, KERNEL_VA + 0x1000, pagePa, 3, KERNEL_FLAGS, 0);
    pmdTable = tableBelow(kernelRoot, 0);
    pmdTable = tableBelow(pmdTable, 1);
    pteTable = tableBelow(pmdTable, 2);
    machine.actOn(1);
    machine.translate(
        1, KERNEL_VA, AccessKind.READ); // core 1's walk cache now points at the PTE table
    machine.actOn(0);
    blockPa =
        machine.memory().allocateContiguous(512, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
  }

  private long tableBelow(long table, int level) {
    long descriptor = machine.memory().readDescriptor(table, format.index(KERNEL_VA, level));
    return format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
  }

  private void setPmd(long descriptor) {
    machine.memory().writeDescriptor(pmdTable, format.index(KERNEL_VA, 2), descriptor);
  }

  @Test
  void linuxSequence_clearFlushFreeSet_isClean() {
    setPmd(0);
    ((Arm64TlbPolicy) kernel.tlbPolicy()).flushTlbKernelPgtable(0, KERNEL_VA);
    machine.memory().free(pteTable);
    setPmd(format.encodeLeaf(blockPa, 2, KERNEL_FLAGS));

    machine.clocks().waitUntil(1, machine.now(0)); // core 1 acts after core 0's sequence
    machine.actOn(1);
    assertThat(machine.translate(1, KERNEL_VA + 0x1234, AccessKind.READ))
        .isEqualTo(blockPa + 0x1234);
    assertThat(machine.oracle().total()).isZero();
    assertThat(machine.stats().instructionCounts())
        .containsEntry("TLBI VAAE1IS", 1L)
        .containsEntry("ISB", 1L);
  }

  @Test
  void withoutTheFlush_theSwapIsReported_andTheOtherCoreWalksTheFreedTable() {
    setPmd(0);
    machine.memory().free(pteTable);
    setPmd(format.encodeLeaf(blockPa, 2, KERNEL_FLAGS));

    machine.clocks().waitUntil(1, machine.now(0)); // core 1 acts after core 0's sequence
    machine.actOn(1);
    machine.translate(1, KERNEL_VA + 0x1000, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.BREAK_BEFORE_MAKE)).isEqualTo(1);
    assertThat(machine.oracle().count(ViolationKind.FREED_TABLE_WALK)).isPositive();
  }

  @Test
  void aLastLevelFlush_isNotEnoughForATable() {
    setPmd(0);
    ((Arm64TlbPolicy) kernel.tlbPolicy()).flushTlbKernelRange(0, KERNEL_VA, KERNEL_VA + 0x2000);
    setPmd(format.encodeLeaf(blockPa, 2, KERNEL_FLAGS));

    assertThat(machine.oracle().count(ViolationKind.BREAK_BEFORE_MAKE)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail())
        .contains("a table descriptor was replaced by a block");
  }
}
