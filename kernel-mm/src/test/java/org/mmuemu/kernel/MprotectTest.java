package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * {@code mprotect}: the VMA is split and changed under the mmap write lock and its own write lock,
 * the PTEs that lose permission are rewritten and flushed from every CPU running the mm (a store
 * through the old writable TLB entry would go through), and permission given back is taken lazily
 * by the next write fault.
 */
final class MprotectTest {
  private static final long VA = 0x20_0000_0000L;

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void readOnly_splitsTheVmaAndFlushesTheWritableEntriesOnEveryCpu(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(VA, VA + 3 * 4096, PteFlags.WRITE, "data"));
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
    for (long va = VA; va < VA + 3 * 4096; va += 4096) {
      assertThat(machine.access(0, va, 8, AccessKind.WRITE)).isTrue();
    }
    assertThat(machine.access(1, VA + 4096, 8, AccessKind.WRITE)).isTrue(); // cached on core 1

    kernel.mprotect(0, mm, VA + 4096, VA + 2 * 4096, 0);

    assertThat(mm.vmas()).extracting(Vma::startVa).containsExactly(VA, VA + 4096, VA + 2 * 4096);
    assertThat(mm.vmas()).extracting(Vma::flags).containsExactly(PteFlags.WRITE, 0, PteFlags.WRITE);
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), VA + 4096);
    assertThat(machine.format().flags(leaf, machine.format().levels() - 1) & PteFlags.WRITE)
        .isZero();
    assertThat(kernel.counters())
        .containsEntry("mprotectCalls", 1L)
        .containsEntry("mprotectPtesChanged", 1L)
        .containsEntry("mprotectPtesFlushed", 1L);
    // neither CPU may still write through its old writable entry once its clock has reached the
    // flush's completion (core 0 waited for it)
    machine.charge(1, machine.now(0) - machine.now(1));
    assertThat(machine.access(1, VA + 4096, 8, AccessKind.WRITE)).isFalse();
    assertThat(machine.access(0, VA + 4096, 8, AccessKind.WRITE)).isFalse();
    assertThat(machine.access(0, VA + 2 * 4096, 8, AccessKind.WRITE)).isTrue();
    assertThat(kernel.counters()).containsEntry("segfaults", 2L);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void writableAgain_theNextStoreFaultsAndReusesThePage(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).boot();
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(VA, VA + 4096, PteFlags.WRITE, "data"));
    kernel.switchTo(0, mm);
    assertThat(machine.access(0, VA, 8, AccessKind.WRITE)).isTrue();

    kernel.mprotect(0, mm, VA, VA + 4096, 0);
    kernel.mprotect(0, mm, VA, VA + 4096, PteFlags.WRITE);
    kernel.mprotect(0, mm, VA, VA + 4096, PteFlags.WRITE); // no change: nothing rewritten

    assertThat(kernel.counters())
        .containsEntry("mprotectCalls", 3L)
        .containsEntry("mprotectPtesChanged", 1L);
    long faultsBefore = machine.stats().faults();
    assertThat(machine.access(0, VA, 8, AccessKind.WRITE)).isTrue();
    assertThat(machine.stats().faults()).isEqualTo(faultsBefore + 1);
    assertThat(kernel.counters()).containsEntry("cowReuseExclusive", 1L);
    assertThat(mm.vmas()).hasSize(1);
  }
}
