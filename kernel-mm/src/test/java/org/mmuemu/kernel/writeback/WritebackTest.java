package org.mmuemu.kernel.writeback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Dirty tracking of shared file pages (invariant I6): a read maps the page write-protected, a write
 * dirties it, writeback's folio_mkclean write-protects every mapping and flushes it from every
 * core, records the content version that reached storage, and the next store on any core faults and
 * dirties the page again; reclaim drops only clean, unmapped pages.
 */
final class WritebackTest {

  /** Maps a 4-page shared file at {@code USER_VA} in {@code mm}, which runs on cores 0 and 1. */
  private static MappedFile mapFileOnBothCores(Kernel kernel, Mm mm) {
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "file", file, 0));
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
    return file;
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void writeback_cleansAndWriteProtects_soTheNextStoreOnAnotherCoreFaultsAndRedirties(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    MappedFile file = mapFileOnBothCores(kernel, mm);
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.READ);
    CachedPage page = kernel.pageCache().lookup(file, 0);
    assertThat(page.dirty()).isFalse();
    machine.access(1, USER_VA, 8, AccessKind.WRITE); // write-notify fault
    assertThat(page.dirty()).isTrue();
    assertThat(kernel.counters()).containsEntry("fileWriteNotifyFaults", 1L);

    machine.actOn(0);
    Writeback writeback = new Writeback(kernel);
    assertThat(writeback.writebackAll(0)).isEqualTo(1);
    assertThat(page.dirty()).isFalse();
    assertThat(page.storedVersion()).isEqualTo(machine.memory().contentVersion(page.pfn()));
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA);
    assertThat(
            machine.format().flags(leaf, machine.format().levels() - 1)
                & (PteFlags.WRITE | PteFlags.DIRTY))
        .isZero();
    assertThat(writeback.reclaim(0, 4, false)).isZero(); // still mapped

    machine.actOn(1);
    machine.clocks().waitUntil(1, machine.now(0)); // after writeback's flush has reached core 1
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    assertThat(page.dirty()).isTrue();
    assertThat(kernel.counters())
        .containsEntry("fileWriteNotifyFaults", 2L)
        .containsEntry("mkcleanPtes", 1L);

    machine.actOn(0);
    kernel.munmap(0, mm, USER_VA, USER_VA + (4 << 12));
    assertThat(writeback.reclaim(0, 4, false)).isZero(); // dirty
    writeback.writebackAll(0);
    assertThat(writeback.reclaim(0, 4, false)).isEqualTo(1);
    assertThat(kernel.pageCache().size()).isZero();
    assertThat(machine.oracle().total()).isZero();
  }

  /**
   * Reclaim of a clean page that another core still maps and caches ({@code try_to_unmap}): the PTE
   * is cleared, the flush completed before the frame is freed (arm64 in one batch: the TLBI without
   * a wait, then one DSB ISH; x86 a shootdown of the page), and the other core's next load faults
   * instead of reading the freed frame. The first pass over mapped pages only ages the page (its
   * load made it young); the second, with no load between, unmaps it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void reclaimUnmappingMappedPages_flushesBeforeFreeing_andTheOtherCoreFaults(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    mapFileOnBothCores(kernel, mm);
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.READ); // clean, write-protected, cached on core 1
    Writeback writeback = new Writeback(kernel);
    machine.actOn(0);
    assertThat(writeback.reclaim(0, 4, false)).as("mapped: kept").isZero();
    assertThat(writeback.reclaim(0, 4, true)).as("referenced since the last pass: kept").isZero();

    assertThat(writeback.reclaim(0, 4, true)).isEqualTo(1);

    assertThat(kernel.pageCache().size()).isZero();
    assertThat(kernel.counters()).containsEntry("reclaimUnmappedPtes", 1L);
    if (isa.equals("arm64")) {
      assertThat(kernel.counters())
          .containsEntry("arm64TlbBatchPending", 1L)
          .containsEntry("arm64TlbBatchFlushes", 1L);
    } else {
      assertThat(machine.stats().latencies()).containsKey("flush_tlb_range");
    }
    machine.actOn(1);
    machine.clocks().waitUntil(1, machine.now(0));
    machine.access(1, USER_VA, 8, AccessKind.READ);
    assertThat(kernel.counters()).containsEntry("fileFaults", 2L);
    assertThat(machine.oracle().total()).isZero();
  }
}
