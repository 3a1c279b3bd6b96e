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

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void writeback_cleansAndWriteProtects_soTheNextStoreOnAnotherCoreFaultsAndRedirties(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "file", file, 0));
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
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
}
