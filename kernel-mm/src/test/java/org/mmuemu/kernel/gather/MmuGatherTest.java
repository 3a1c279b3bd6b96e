package org.mmuemu.kernel.gather;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.TlbGatherFlush;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * mmu_gather against DOMAIN.md §3.4: no page is released before the arch flush that covers it has
 * run, page-table pages are freed only after a flush with {@code freed_tables}, fullmm skips range
 * tracking, and the batches hold exactly as many pages as Linux's limits allow before a flush is
 * forced.
 */
final class MmuGatherTest {

  /** Releases pages into a list, remembering how many flushes had run at each release. */
  private static final class RecordingOwner implements MmuGather.PageOwner {
    final List<Long> released = new ArrayList<>();
    final List<Integer> flushesBefore = new ArrayList<>();
    final List<Long> rmapsRemoved = new ArrayList<>();
    RecordingTlbPolicy policy;

    @Override
    public void releasePage(int core, long pfn) {
      released.add(pfn);
      flushesBefore.add(policy == null ? 0 : policy.flushes.size());
    }

    @Override
    public void removeRmap(int core, long pfn, Mm mm, long va) {
      rmapsRemoved.add(pfn);
    }
  }

  private static MmuGather gather(
      Kernel kernel,
      RecordingTlbPolicy policy,
      RecordingOwner owner,
      Mm mm,
      boolean fullmm,
      boolean nestedFlush) {
    owner.policy = policy;
    return MmuGather.begin(kernel.machine(), policy, owner, nestedFlush, 0, 0, 0, mm, fullmm);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void zap_releasesEveryPageOnlyAfterAFlushCoveringIt(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    long pages = 600; // more than the embedded batch and one extra batch
    Mm mm = UserProcesses.anonymous(kernel, pages);
    kernel.switchTo(0, mm);
    for (long i = 0; i < pages; i++) {
      machine.access(0, USER_VA + (i << 12), 8, AccessKind.WRITE);
    }
    RecordingTlbPolicy policy = new RecordingTlbPolicy(kernel);
    RecordingOwner owner = new RecordingOwner();
    MmuGather tlb = gather(kernel, policy, owner, mm, false, true);

    kernel.unmapVmaRange(tlb, mm.vmas().get(0), USER_VA, USER_VA + (pages << 12));
    assertThat(owner.released).isEmpty();
    assertThat(tlb.extraBatches()).isEqualTo(2);
    tlb.finish();

    assertThat(owner.released).hasSize((int) pages);
    assertThat(owner.flushesBefore).allMatch(flushes -> flushes >= 1);
    TlbGatherFlush flush = policy.flushes.get(0);
    assertThat(flush.fullmm()).isFalse();
    assertThat(flush.startVa()).isEqualTo(USER_VA);
    assertThat(flush.endVa()).isEqualTo(USER_VA + (pages << 12));
    assertThat(flush.strideShift()).isEqualTo(12);
    assertThat(flush.freedTables()).isFalse();
    assertThat(mm.tlbFlushPending()).isZero();
  }

  @Test
  void batches_forceAFlushAtLinuxsLimit() {
    Kernel kernel = KernelBoot.on("x86").cores(1).boot();
    Mm mm = kernel.createMm();
    RecordingOwner owner = new RecordingOwner();
    MmuGather tlb = gather(kernel, new RecordingTlbPolicy(kernel), owner, mm, false, true);
    tlb.recordCleared(USER_VA, 4096, 3);
    int limit =
        (MmuGather.MMU_GATHER_BUNDLE - 1)
            + MmuGather.MAX_GATHER_BATCH_COUNT * (MmuGather.MAX_GATHER_BATCH - 1);
    int queued = 0;
    boolean mustFlush = false;
    while (!mustFlush) {
      queued++;
      mustFlush = tlb.removePage(1000 + queued, USER_VA, false);
      if (queued == MmuGather.MMU_GATHER_BUNDLE - 1) {
        assertThat(tlb.extraBatches()).isEqualTo(1);
      }
    }

    assertThat(queued).isEqualTo(limit).isEqualTo(9678);
    assertThat(tlb.extraBatches()).isEqualTo(19);
    tlb.batchFullFlush();
    assertThat(owner.released).hasSize(limit);
    assertThat(tlb.queuedPages()).isZero();
    tlb.finish();
  }

  @Test
  void delayedRmap_refusesASecondExtraBatch() {
    Kernel kernel = KernelBoot.on("arm64").cores(1).boot();
    Mm mm = kernel.createMm();
    RecordingOwner owner = new RecordingOwner();
    MmuGather tlb = gather(kernel, new RecordingTlbPolicy(kernel), owner, mm, false, true);
    tlb.recordCleared(USER_VA, 4096, 3);
    int queued = 0;
    boolean mustFlush = false;
    while (!mustFlush) {
      queued++;
      mustFlush = tlb.removePage(1000 + queued, USER_VA, queued == 1);
    }

    assertThat(queued)
        .isEqualTo((MmuGather.MMU_GATHER_BUNDLE - 1) + (MmuGather.MAX_GATHER_BATCH - 1));
    assertThat(tlb.extraBatches()).isEqualTo(1);
    assertThatThrownBy(tlb::flushRmaps)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("before the TLB flush");
    tlb.flushTlbOnly();
    tlb.flushRmaps();
    assertThat(owner.rmapsRemoved).containsExactly(1001L);
    tlb.finish();
  }

  @Test
  void removePage_withoutARecordedRange_isRefused() {
    Kernel kernel = KernelBoot.on("arm64").cores(1).boot();
    MmuGather tlb =
        gather(
            kernel,
            new RecordingTlbPolicy(kernel),
            new RecordingOwner(),
            kernel.createMm(),
            false,
            true);

    assertThatThrownBy(() -> tlb.removePage(5, USER_VA, false))
        .isInstanceOf(IllegalStateException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void munmap_freesTheEmptiedTablesAfterAFreedTablesFlush_andNoCoreWalksThem(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = UserProcesses.anonymous(kernel, 512); // exactly one PTE table's span (2 MiB, aligned)
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    machine.actOn(0);
    machine.access(0, USER_VA + 4096, 8, AccessKind.WRITE);
    long framesBefore = machine.memory().framesInUse();

    kernel.munmap(0, mm, USER_VA, USER_VA + (512L << 12));

    // two data pages, the PTE table, the PMD table, the PUD table (the VMA was alone in its 512
    // GiB)
    assertThat(kernel.counters()).containsEntry("pageTablesFreed", 3L);
    assertThat(machine.memory().framesInUse()).isEqualTo(framesBefore - 5);
    machine.actOn(1);
    assertThat(machine.access(1, USER_VA, 8, AccessKind.READ))
        .isFalse(); // segfault: the VMA is gone
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void tables_areStillAllocatedAtTheFreedTablesFlush(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).boot();
    Machine machine = kernel.machine();
    Mm mm = UserProcesses.anonymous(kernel, 512);
    kernel.switchTo(0, mm);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    long pteTable = pteTableOf(kernel, mm);
    RecordingTlbPolicy policy = new RecordingTlbPolicy(kernel, pteTable);
    RecordingOwner owner = new RecordingOwner();
    MmuGather tlb = gather(kernel, policy, owner, mm, false, true);

    kernel.unmapVmaRange(tlb, mm.vmas().get(0), USER_VA, USER_VA + (512L << 12));
    kernel.freePgtables(tlb, USER_VA, USER_VA + (512L << 12), USER_VA, USER_VA + (512L << 12));
    assertThat(tlb.freedTables()).isTrue();
    assertThat(tlb.queuedTables()).isEqualTo(1);
    assertThat(machine.memory().isPageTable(pteTable)).isTrue();
    tlb.finish();

    TlbGatherFlush last = policy.flushes.get(policy.flushes.size() - 1);
    assertThat(last.freedTables()).isTrue();
    assertThat(policy.tablesStillAllocated).containsOnly(true);
    assertThat(machine.memory().isPageTable(pteTable)).isFalse();
    if (isa.equals("x86")) {
      // MMU_GATHER_MERGE_VMAS: one flush for the leaves and the table, at the smallest level
      // cleared (the PTEs)
      assertThat(policy.flushes).hasSize(1);
      assertThat(last.strideShift()).isEqualTo(12);
    } else {
      // tlb_end_vma flushed the leaves; the table flush strides by the PMD entry it cleared
      assertThat(policy.flushes).hasSize(2);
      assertThat(policy.flushes.get(0).freedTables()).isFalse();
      assertThat(policy.flushes.get(0).strideShift()).isEqualTo(12);
      assertThat(last.strideShift()).isEqualTo(21);
    }
  }

  private static long pteTableOf(Kernel kernel, Mm mm) {
    Machine machine = kernel.machine();
    long table = mm.rootPfn();
    for (int level = 0; level < machine.format().levels() - 1; level++) {
      long descriptor =
          machine.memory().readDescriptor(table, machine.format().index(USER_VA, level));
      table = machine.format().outputPa(descriptor, level) >>> 12;
    }
    return table;
  }

  @Test
  void fullmm_tracksNoRange_andArm64ExitFlushesTheAsidOnceBecauseTablesWereFreed() {
    Kernel kernel = KernelBoot.on("arm64").cores(1).boot();
    Machine machine = kernel.machine();
    Mm mm = UserProcesses.anonymous(kernel, 64);
    kernel.switchTo(0, mm);
    for (int i = 0; i < 64; i++) {
      machine.access(0, USER_VA + (i << 12), 8, AccessKind.WRITE);
    }
    long framesBefore = machine.memory().framesInUse();

    kernel.exitMmap(0, mm);

    assertThat(machine.stats().instructionCounts())
        .containsEntry("TLBI ASIDE1IS", 1L)
        .doesNotContainKeys("TLBI VALE1IS", "TLBI VAE1IS");
    // 64 pages, every table below the root, then the root; one reserved TTBR0 table appears
    assertThat(machine.memory().framesInUse()).isEqualTo(framesBefore - 64 - 3 - 1 + 1);
    assertThat(kernel.machine().core(0).context().asid()).isZero();
    assertThat(machine.stats().latencies()).containsKey("exit_mmap");
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void fullmm_withoutFreedTables_skipsTheArm64Flush() {
    Kernel kernel = KernelBoot.on("arm64").cores(1).boot();
    Mm mm = kernel.createMm();
    RecordingTlbPolicy policy = new RecordingTlbPolicy(kernel);
    RecordingOwner owner = new RecordingOwner();
    MmuGather tlb = gather(kernel, policy, owner, mm, true, true);
    tlb.recordCleared(USER_VA, 4096, 3);
    tlb.removePage(7, USER_VA, false);
    tlb.finish();

    assertThat(policy.flushes)
        .singleElement()
        .satisfies(
            flush -> {
              assertThat(flush.fullmm()).isTrue();
              assertThat(flush.endVa()).isEqualTo(-1L); // fullmm keeps the reset range: ~0
            });
    assertThat(kernel.machine().stats().kernelCounters()).containsEntry("tlbFlushFullmmElided", 1L);
    assertThat(owner.released).containsExactly(7L);
  }

  @Test
  void finish_afterFinish_isRefused() {
    Kernel kernel = KernelBoot.on("x86").cores(1).boot();
    MmuGather tlb =
        gather(
            kernel,
            new RecordingTlbPolicy(kernel),
            new RecordingOwner(),
            kernel.createMm(),
            false,
            true);
    tlb.finish();

    assertThatThrownBy(tlb::finish).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void x86TlbFlush_reachesLazyCpusOnlyWhenTablesWereFreed() {
    long[] ipis = new long[2];
    for (int freed = 0; freed < 2; freed++) {
      Kernel kernel = KernelBoot.on("x86").cores(2).boot();
      Machine machine = kernel.machine();
      Mm mm = UserProcesses.anonymous(kernel, 4);
      kernel.switchTo(0, mm);
      kernel.switchTo(1, mm);
      machine.actOn(1);
      machine.access(1, USER_VA, 8, AccessKind.WRITE);
      kernel.exitThread(1); // core 1 keeps the mm lazily
      machine.actOn(0);
      long before = machine.stats().ipis();
      MmuGather tlb = kernel.gather(0, mm, true);
      kernel.unmapVmaRange(tlb, mm.vmas().get(0), USER_VA, USER_VA + (4 << 12));
      if (freed == 1) {
        kernel.freePgtables(tlb, 0, kernel.userCeiling(), 0, kernel.userCeiling());
      }
      tlb.finish();
      ipis[freed] = machine.stats().ipis() - before;
      assertThat(machine.oracle().total()).isZero();
    }

    assertThat(ipis[0]).isZero();
    assertThat(ipis[1]).isEqualTo(1);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"arm64, 0xF00000000000", "x86, 0x700000000000"})
  void exitMmap_freesEverythingUpToTheTopOfUserSpace(String isa, String topVa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).boot();
    Machine machine = kernel.machine();
    long va = Long.decode(topVa);
    Mm mm = kernel.createMm();
    kernel.mmap(
        0,
        mm,
        new org.mmuemu.kernel.mm.Vma(
            va, va + (4 << 12), org.mmuemu.core.isa.PteFlags.WRITE, "top"));
    kernel.switchTo(0, mm);
    for (int i = 0; i < 4; i++) {
      assertThat(machine.access(0, va + (i << 12), 8, AccessKind.WRITE)).isTrue();
    }
    kernel.exitThread(0); // allocates arm64's reserved TTBR0 table before the count
    long framesBefore = machine.memory().framesInUse();

    kernel.exitMmap(0, mm);

    assertThat(machine.memory().framesInUse()).isEqualTo(framesBefore - 4 - 3 - 1);
    assertThat(mm.vmas()).isEmpty();
  }

  @Test
  void fullTableBatch_isFlushedTlbFirstBeforeMoreTablesAreQueued() {
    Kernel kernel = KernelBoot.on("arm64").cores(1).boot();
    Machine machine = kernel.machine();
    long tables = MmuGather.MAX_TABLE_BATCH + 1; // PTE tables, one page touched in each 2 MiB
    Mm mm = UserProcesses.anonymous(kernel, tables * 512);
    kernel.switchTo(0, mm);
    for (long i = 0; i < tables; i++) {
      machine.access(0, USER_VA + (i << 21), 8, AccessKind.WRITE);
    }
    RecordingTlbPolicy policy = new RecordingTlbPolicy(kernel);
    RecordingOwner owner = new RecordingOwner();
    MmuGather tlb = gather(kernel, policy, owner, mm, false, true);
    long end = USER_VA + (tables << 21);
    kernel.unmapVmaRange(tlb, mm.vmas().get(0), USER_VA, end);
    kernel.freePgtables(tlb, USER_VA, end, 0, kernel.userCeiling());

    // tlb_end_vma flushed the leaves; the 509th table filled the batch: flushed (freed_tables)
    // and freed before the rest were queued
    assertThat(policy.flushes).hasSize(2);
    assertThat(policy.flushes.get(0).freedTables()).isFalse();
    assertThat(policy.flushes.get(1).freedTables()).isTrue();
    assertThat(owner.released).isEmpty(); // pages wait for tlb_finish_mmu
    assertThat(tlb.queuedTables()).isEqualTo(3); // the last PTE table, the PMD and the PUD table
    tlb.finish();

    assertThat(policy.flushes).hasSize(3);
    assertThat(owner.released).hasSize((int) tables);
    assertThat(kernel.machine().stats().kernelCounters())
        .containsEntry("pageTablesFreed", tables + 2);
    assertThat(machine.oracle().total()).isZero();
  }
}
