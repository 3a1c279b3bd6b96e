package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Anonymous transparent huge pages at the PMD level: the {@code thp} tunable decides which VMAs get
 * them; one fault maps 2 MiB with one PMD entry; unmapping part of one splits it (flushing the huge
 * translation first) and frees only that part; fork splits before it shares.
 */
final class ThpTest {
  private static final long HUGE = 2L << 20;

  private static long counter(Kernel kernel, String name) {
    return ((Number) kernel.counters().getOrDefault(name, 0L)).longValue();
  }

  private static Kernel boot(String isa, String thp) {
    return KernelBoot.on(isa).tunable("thp", thp).boot();
  }

  private static Mm process(Kernel kernel, boolean advised, long bytes) {
    Mm mm = kernel.createMm();
    Vma vma = new Vma(USER_VA, USER_VA + bytes, PteFlags.WRITE, "heap");
    kernel.mmap(0, mm, advised ? vma.withHugepageAdvice() : vma);
    kernel.switchTo(0, mm);
    return mm;
  }

  @ParameterizedTest
  @CsvSource({
    "arm64, always, false, 2",
    "x86, always, false, 2",
    "arm64, madvise, true, 2",
    "x86, madvise, false, 3",
    "arm64, never, true, 3",
    "x86, never, true, 3"
  })
  void thpTunable_decidesWhetherOneFaultMapsTwoMiB(
      String isa, String thp, boolean advised, int expectedLeafLevel) {
    Kernel kernel = boot(isa, thp);
    Machine machine = kernel.machine();
    Mm mm = process(kernel, advised, 2 * HUGE);

    machine.access(0, USER_VA + 8, 8, AccessKind.WRITE);
    machine.access(0, USER_VA + HUGE - 4096, 8, AccessKind.WRITE);

    assertThat(kernel.tables().leafLevel(mm.rootPfn(), USER_VA)).isEqualTo(expectedLeafLevel);
    boolean huge = expectedLeafLevel == 2;
    assertThat(counter(kernel, "thpFaultAlloc")).isEqualTo(huge ? 1 : 0);
    assertThat(counter(kernel, "pageFaults")).isEqualTo(huge ? 1 : 2);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void aVmaWithoutAWholeAlignedTwoMiB_getsBasePages(String isa) {
    Kernel kernel = boot(isa, "always");
    Mm mm = process(kernel, false, HUGE - 4096);

    kernel.machine().access(0, USER_VA, 8, AccessKind.WRITE);

    assertThat(kernel.tables().leafLevel(mm.rootPfn(), USER_VA)).isEqualTo(3);
    assertThat(counter(kernel, "thpFaultAlloc")).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void munmapOfOnePage_splitsAfterFlushing_andFreesOnlyThatPage(String isa) {
    Kernel kernel = boot(isa, "always");
    Machine machine = kernel.machine();
    Mm mm = process(kernel, false, HUGE);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    long head = machine.format().outputPa(kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA), 2);
    long framesMapped = machine.memory().framesInUse();
    machine.access(0, USER_VA + 5 * 4096, 8, AccessKind.WRITE); // the TLB caches the 2 MiB entry

    kernel.munmap(0, mm, USER_VA + 4096, USER_VA + 2 * 4096);

    assertThat(counter(kernel, "thpSplitPmd")).isEqualTo(1);
    assertThat(kernel.tables().leafLevel(mm.rootPfn(), USER_VA)).isEqualTo(3);
    assertThat(kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA + 4096)).isZero();
    long page5 = kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA + 5 * 4096);
    assertThat(machine.format().outputPa(page5, 3)).isEqualTo(head + 5 * 4096);
    assertThat(machine.memory().isAllocated((head >>> 12) + 1)).isFalse();
    // one data frame freed, one PTE table allocated for the split
    assertThat(machine.memory().framesInUse()).isEqualTo(framesMapped);
    machine.access(0, USER_VA + 5 * 4096, 8, AccessKind.WRITE);
    assertThat(machine.oracle().total()).isZero();

    kernel.exitMmap(0, mm);
    assertThat(machine.memory().isAllocated(head >>> 12)).isFalse();
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void exitOfAWholeHugePage_freesAllItsFramesAtOnce(String isa) {
    Kernel kernel = boot(isa, "always");
    Machine machine = kernel.machine();
    long before = machine.memory().framesInUse();
    Mm mm = process(kernel, false, HUGE);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    assertThat(machine.memory().framesInUse() - before).isGreaterThanOrEqualTo(512);

    kernel.exitMmap(0, mm);

    assertThat(counter(kernel, "thpSplitPmd")).isZero();
    assertThat(counter(kernel, "pagesFreed")).isEqualTo(512);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void fork_splitsTheParentsHugePage_thenCopyOnWriteWorksPerPage(String isa) {
    Kernel kernel = boot(isa, "always");
    Machine machine = kernel.machine();
    Mm parent = process(kernel, false, HUGE);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);

    Mm child = kernel.fork(0, parent);
    machine.actOn(1);
    kernel.switchTo(1, child);
    machine.access(1, USER_VA + 4096, 8, AccessKind.WRITE);

    assertThat(counter(kernel, "thpSplitPmd")).isEqualTo(1);
    assertThat(counter(kernel, "forkPtesWriteProtected")).isEqualTo(512);
    assertThat(counter(kernel, "cowCopies")).isEqualTo(1);
    assertThat(kernel.tables().leafLevel(child.rootPfn(), USER_VA)).isEqualTo(3);
    kernel.exitMmap(1, child);
    machine.actOn(0);
    kernel.exitMmap(0, parent);
    assertThat(machine.oracle().total()).isZero();
  }
}
