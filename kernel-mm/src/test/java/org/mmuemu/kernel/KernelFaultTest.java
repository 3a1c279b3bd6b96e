package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Demand paging, the first kernel path every workload takes: a fault in a VMA maps a fresh page and
 * the access continues; outside a VMA it is a segmentation fault; and the fault's cost is the sum
 * of the work it did, from the kernel cost table.
 */
final class KernelFaultTest {
  private static final long DATA_VA = 0x10_0000_0000L;

  private static Kernel boot(Machine machine) {
    return new Kernel(machine, KernelConfig.defaults());
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void firstTouch_faultsOnceMapsAFrameAndBuildsTheMissingTables(String isa) {
    Machine machine = KernelBoot.on(isa).cores(1).machine();
    Kernel kernel = boot(machine);
    Mm mm = kernel.createMm();
    mm.addVma(new Vma(DATA_VA, DATA_VA + (1 << 20), PteFlags.WRITE, "data"));
    kernel.switchTo(0, mm);

    assertThat(machine.access(0, DATA_VA + 8, 8, AccessKind.WRITE)).isTrue();
    assertThat(machine.access(0, DATA_VA + 16, 8, AccessKind.READ)).isTrue();

    assertThat(kernel.counters())
        .containsEntry("pageFaults", 1L)
        .containsEntry("segfaults", 0L)
        .containsEntry("dataPagesAllocated", 1L)
        // kernel root + mm root + one table at each of the three lower levels
        .containsEntry("pageTablePages", 5L);
    assertThat(machine.stats().faults()).isEqualTo(1);
    // the fault walk and the retry walk; the second access hits in the TLB
    assertThat(machine.stats().walks()).isEqualTo(2);
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), DATA_VA);
    int flags = machine.format().flags(leaf, 3);
    assertThat(flags & (PteFlags.WRITE | PteFlags.USER | PteFlags.DIRTY | PteFlags.ACCESSED))
        .isEqualTo(PteFlags.WRITE | PteFlags.USER | PteFlags.DIRTY | PteFlags.ACCESSED);
    assertThat(flags & PteFlags.GLOBAL).isZero();
    long pfn = machine.format().outputPa(leaf, 3) >>> 12;
    assertThat(machine.memory().kind(pfn)).isEqualTo(FrameKind.DATA);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void faultLatency_isTheSumOfTheWorkDone() {
    Machine machine = KernelBoot.on("arm64").cores(1).machine();
    Kernel kernel = boot(machine);
    KernelCosts costs = kernel.config().costs();
    Mm mm = kernel.createMm();
    mm.addVma(new Vma(DATA_VA, DATA_VA + (1 << 20), PteFlags.WRITE, "data"));
    kernel.switchTo(0, mm);

    machine.access(0, DATA_VA, 8, AccessKind.WRITE);

    long firstFault =
        costs.faultEntryCycles()
            // lock_vma_under_rcu: the lookup and the VMA lock's trylock, refused (no anon_vma)
            + costs.vmaLookupCycles()
            + costs.lockCycles()
            + 2 * costs.lockCycles() // mmap_lock for read, then the page-table lock
            + costs.vmaLookupCycles()
            + costs.lockCycles() // anon_vma_prepare: page_table_lock and a look at the neighbours
            + costs.vmaLookupCycles()
            + costs.pageAllocCycles()
            + costs.pageZeroCycles()
            + 3 * (costs.tableAllocCycles() + costs.pteWriteCycles())
            + costs.pteWriteCycles();
    assertThat(machine.stats().latencies().get("pageFault").max()).isEqualTo(firstFault);

    machine.access(0, DATA_VA + 4096, 8, AccessKind.READ);

    // a read maps the zero page: nothing allocated, nothing zeroed
    long vmaLockedFault =
        costs.faultEntryCycles()
            + costs.vmaLookupCycles()
            + 2 * costs.lockCycles() // the VMA's read lock, then the page-table lock
            + costs.pteWriteCycles();
    assertThat(machine.stats().latencies().get("pageFault").sum())
        .isEqualTo(firstFault + vmaLockedFault);
    assertThat(kernel.counters())
        .containsEntry("vmaLockAbort", 1L)
        .containsEntry("vmaLockSuccess", 1L);
  }

  @Test
  void accessOutsideEveryVma_isASegfault() {
    Machine machine = KernelBoot.on("x86").cores(1).machine();
    Kernel kernel = boot(machine);
    Mm mm = kernel.createMm();
    mm.addVma(new Vma(DATA_VA, DATA_VA + 4096, PteFlags.WRITE, "data"));
    kernel.switchTo(0, mm);

    assertThat(machine.access(0, DATA_VA + 4096, 8, AccessKind.READ)).isFalse();

    assertThat(kernel.counters()).containsEntry("segfaults", 1L).containsEntry("pageFaults", 0L);
    assertThat(machine.unresolvedFaults()).isEqualTo(1);
  }

  @Test
  void writeToReadOnlyVma_isASegfault_readIsNot() {
    Machine machine = KernelBoot.on("arm64").cores(1).machine();
    Kernel kernel = boot(machine);
    Mm mm = kernel.createMm();
    mm.addVma(new Vma(DATA_VA, DATA_VA + 4096, 0, "rodata"));
    kernel.switchTo(0, mm);

    assertThat(machine.access(0, DATA_VA, 8, AccessKind.READ)).isTrue();
    assertThat(machine.access(0, DATA_VA, 8, AccessKind.WRITE)).isFalse();
    assertThat(kernel.counters()).containsEntry("pageFaults", 1L).containsEntry("segfaults", 1L);
  }

  @Test
  void twoProcesses_sameVa_differentFramesAndTags() {
    Machine machine = KernelBoot.on("arm64").cores(1).machine();
    Kernel kernel = boot(machine);
    Mm first = kernel.createMm();
    Mm second = kernel.createMm();
    for (Mm mm : new Mm[] {first, second}) {
      mm.addVma(new Vma(DATA_VA, DATA_VA + 4096, PteFlags.WRITE, "data"));
    }
    kernel.switchTo(0, first);
    long firstPa = machine.translate(0, DATA_VA, AccessKind.WRITE);
    kernel.switchTo(0, second);
    long secondPa = machine.translate(0, DATA_VA, AccessKind.WRITE);
    kernel.switchTo(0, first);
    long walksBefore = machine.stats().walks();
    long again = machine.translate(0, DATA_VA, AccessKind.WRITE);

    assertThat(first.asid()).isNotEqualTo(second.asid());
    assertThat(firstPa).isNotEqualTo(secondPa);
    assertThat(again).isEqualTo(firstPa);
    // the first process's entry survived the switch: tagged by ASID, so no walk
    assertThat(machine.stats().walks()).isEqualTo(walksBefore);
  }
}
