package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * mTHP for anonymous write faults ({@code alloc_anon_folio}) and arm64's contiguous PTEs for them
 * ({@code CONFIG_ARM64_CONTPTE}): one fault maps a whole 64 KiB folio, on arm64 as one contiguous
 * block the TLB holds as one entry; a change to part of a block unfolds it first (break-before-make
 * and a TLBI of its range), a single PTE write that completes a block folds it again. Without the
 * unfold, the oracle sees the misprogrammed run or the missing break-before-make.
 */
final class MthpContpteTest {
  private static final long PAGE = 4096;
  private static final long BLOCK = 64L << 10;

  private static long counter(Kernel kernel, String name) {
    return ((Number) kernel.counters().getOrDefault(name, 0L)).longValue();
  }

  private static Kernel boot(String isa, String contpte, Map<String, String> mthp) {
    KernelBoot boot = KernelBoot.on(isa).cores(2).tunable("mthp", mthp);
    if (isa.equals("arm64")) {
      boot.contpteTlbs().variants(Map.of("arm64Contpte", contpte));
    }
    return boot.boot();
  }

  private static Kernel arm64() {
    return boot("arm64", "auto", Map.of("64KiB", "always"));
  }

  private static Mm process(Kernel kernel, long bytes) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + bytes, PteFlags.WRITE, "heap"));
    kernel.machine().actOn(0);
    kernel.switchTo(0, mm);
    return mm;
  }

  // a process whose first 64 KiB is one folio, mapped by a write fault
  private static Mm oneFolio(Kernel kernel) {
    Mm mm = process(kernel, BLOCK);
    kernel.machine().access(0, USER_VA, 8, AccessKind.WRITE);
    return mm;
  }

  private static int flags(Kernel kernel, Mm mm, long va) {
    Machine machine = kernel.machine();
    long descriptor = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    return descriptor == 0 ? 0 : machine.format().flags(descriptor, machine.format().levels() - 1);
  }

  private static boolean contiguous(Kernel kernel, Mm mm, long va) {
    return (flags(kernel, mm, va) & PteFlags.CONTIGUOUS) != 0;
  }

  private static long pa(Kernel kernel, Mm mm, long va) {
    Machine machine = kernel.machine();
    return machine
        .format()
        .outputPa(kernel.tables().leafDescriptor(mm.rootPfn(), va), machine.format().levels() - 1);
  }

  // core 1 runs mm and caches the block
  private static void cacheOnCore1(Kernel kernel, Mm mm, long va) {
    kernel.machine().actOn(1);
    kernel.switchTo(1, mm);
    kernel.machine().access(1, va, 8, AccessKind.READ);
    kernel.machine().actOn(0);
  }

  @ParameterizedTest
  @CsvSource({"arm64, auto, true", "arm64, off, false", "x86, auto, false"})
  void oneWriteFault_mapsTheWhole64KiBFolio_contiguousOnlyOnArm64WithContpte(
      String isa, String contpte, boolean expectContiguous) {
    Kernel kernel = boot(isa, contpte, Map.of("64KiB", "always"));
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 4 * BLOCK);

    machine.access(0, USER_VA + BLOCK + 3 * PAGE, 8, AccessKind.WRITE);
    for (long va = USER_VA + BLOCK; va < USER_VA + 2 * BLOCK; va += PAGE) {
      machine.access(0, va, 8, AccessKind.WRITE);
    }

    assertThat(counter(kernel, "pageFaults")).isEqualTo(1);
    assertThat(counter(kernel, "mthpFaultAlloc")).isEqualTo(1);
    assertThat(counter(kernel, "mthpFaultAlloc64KiB")).isEqualTo(1);
    long head = pa(kernel, mm, USER_VA + BLOCK);
    assertThat(head % BLOCK).isZero();
    for (int i = 0; i < 16; i++) {
      long va = USER_VA + BLOCK + i * PAGE;
      assertThat(pa(kernel, mm, va)).isEqualTo(head + i * PAGE);
      assertThat(contiguous(kernel, mm, va)).isEqualTo(expectContiguous);
    }
    assertThat(kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA)).isZero();
    assertThat(counter(kernel, "contpteFolds")).isEqualTo(expectContiguous ? 1 : 0);
    SetAssociativeTlb l1d = machine.core(0).tlb("l1d");
    int slot = l1d.probe(USER_VA + BLOCK + 9 * PAGE, machine.core(0).context().asid());
    assertThat(l1d.pageShiftOf(slot)).isEqualTo(expectContiguous ? 16 : 12);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @CsvSource({
    "inherit, always, false, 1",
    "inherit, madvise, true, 1",
    "inherit, madvise, false, 0",
    "inherit, never, true, 0",
    "madvise, never, true, 1",
    "madvise, always, false, 0",
    "never, always, true, 0"
  })
  void sizeSetting_inheritFollowsThp_madviseNeedsTheAdvice(
      String setting, String thp, boolean advised, int folios) {
    Kernel kernel =
        KernelBoot.on("arm64").tunable("thp", thp).tunable("mthp", Map.of("64KiB", setting)).boot();
    Mm mm = kernel.createMm();
    Vma vma = new Vma(USER_VA, USER_VA + 4 * BLOCK, PteFlags.WRITE, "heap"); // no 2 MiB: no PMD THP
    kernel.mmap(0, mm, advised ? vma.withHugepageAdvice() : vma);
    kernel.switchTo(0, mm);

    kernel.machine().access(0, USER_VA, 8, AccessKind.WRITE);

    assertThat(counter(kernel, "mthpFaultAlloc64KiB")).isEqualTo(folios);
    assertThat(counter(kernel, "contpteFolds")).isEqualTo(folios);
  }

  @Test
  void largestEnabledSizeThatFits_isChosen_elseBasePagesAndAFallback() {
    Kernel kernel = boot("arm64", "auto", Map.of("64KiB", "always", "32KiB", "always"));
    Machine machine = kernel.machine();
    Mm mm = process(kernel, BLOCK + BLOCK / 2 + PAGE);

    machine.access(0, USER_VA, 8, AccessKind.WRITE); // 64 KiB fits
    machine.access(0, USER_VA + BLOCK, 8, AccessKind.WRITE); // only 32 KiB fits
    machine.access(0, USER_VA + BLOCK + BLOCK / 2, 8, AccessKind.WRITE); // neither: a base page

    assertThat(counter(kernel, "mthpFaultAlloc64KiB")).isEqualTo(1);
    assertThat(counter(kernel, "mthpFaultAlloc32KiB")).isEqualTo(1);
    assertThat(counter(kernel, "mthpFaultFallback")).isEqualTo(1);
    assertThat(counter(kernel, "dataPagesAllocated")).isEqualTo(16 + 8 + 1);
    assertThat(contiguous(kernel, mm, USER_VA + BLOCK)).isFalse(); // 32 KiB is half a block
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void aPresentPteInTheAlignedRange_fallsBackToABasePage_readFaultsToo() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    process(kernel, BLOCK);

    machine.access(0, USER_VA + PAGE, 8, AccessKind.READ); // read: order 0
    machine.access(0, USER_VA, 8, AccessKind.WRITE); // the range is no longer none

    assertThat(counter(kernel, "mthpFaultAlloc")).isZero();
    assertThat(counter(kernel, "mthpFaultFallback")).isEqualTo(1);
    assertThat(counter(kernel, "pageFaults")).isEqualTo(2);
  }

  @Test
  void munmapOfOnePage_unfoldsTheBlockWithBreakBeforeMake_andFreesOnlyThatPage() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    Mm mm = oneFolio(kernel);
    long head = pa(kernel, mm, USER_VA) >>> 12;
    cacheOnCore1(kernel, mm, USER_VA + 5 * PAGE);
    long tlbisBefore = machine.stats().instructionCounts().getOrDefault("TLBI VALE1IS", 0L);

    kernel.munmap(0, mm, USER_VA + 2 * PAGE, USER_VA + 3 * PAGE);

    assertThat(counter(kernel, "contpteUnfolds")).isEqualTo(1);
    // 16 for the unfold's flush of the block, 1 for the unmapped page
    assertThat(machine.stats().instructionCounts().get("TLBI VALE1IS") - tlbisBefore).isEqualTo(17);
    for (int i = 0; i < 16; i++) {
      long va = USER_VA + i * PAGE;
      assertThat(contiguous(kernel, mm, va)).isFalse();
      assertThat(kernel.tables().leafDescriptor(mm.rootPfn(), va) != 0).isEqualTo(i != 2);
    }
    assertThat(machine.memory().isAllocated(head + 2)).isFalse();
    assertThat(machine.memory().isAllocated(head + 5)).isTrue();
    machine.actOn(1);
    machine.access(1, USER_VA + 5 * PAGE, 8, AccessKind.READ);
    machine.access(1, USER_VA + 9 * PAGE, 8, AccessKind.WRITE);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void munmapOfTheWholeBlock_needsNoUnfold() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 2 * BLOCK);
    machine.access(0, USER_VA + BLOCK, 8, AccessKind.WRITE);
    cacheOnCore1(kernel, mm, USER_VA + BLOCK);

    kernel.munmap(0, mm, USER_VA + BLOCK, USER_VA + 2 * BLOCK);

    assertThat(counter(kernel, "contpteUnfolds")).isZero();
    assertThat(counter(kernel, "pagesFreed")).isEqualTo(16);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void mprotectOfTheBlock_unfoldsAndRefolds_andAWriteThenUnfoldsIt() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    Mm mm = oneFolio(kernel);
    cacheOnCore1(kernel, mm, USER_VA + 7 * PAGE);

    kernel.mprotect(0, mm, USER_VA, USER_VA + BLOCK, 0);

    assertThat(counter(kernel, "contpteUnfolds")).isEqualTo(1);
    assertThat(counter(kernel, "contpteRefolds")).isEqualTo(1);
    assertThat(contiguous(kernel, mm, USER_VA + 3 * PAGE)).isTrue();
    assertThat(flags(kernel, mm, USER_VA + 3 * PAGE) & PteFlags.WRITE).isZero();

    kernel.mprotect(0, mm, USER_VA, USER_VA + BLOCK, PteFlags.WRITE);
    machine.access(0, USER_VA + 4 * PAGE, 8, AccessKind.WRITE); // write fault on one PTE

    assertThat(counter(kernel, "contpteUnfolds")).isEqualTo(2);
    assertThat(contiguous(kernel, mm, USER_VA)).isFalse();
    assertThat(flags(kernel, mm, USER_VA + 4 * PAGE) & PteFlags.WRITE).isNotZero();
    machine.actOn(1);
    machine.access(1, USER_VA + 7 * PAGE, 8, AccessKind.READ);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void fork_sharesTheBlockContiguousInBoth_andCopyOnWriteUnfoldsIt() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    Mm parent = oneFolio(kernel);

    Mm child = kernel.fork(0, parent);

    assertThat(contiguous(kernel, child, USER_VA + 6 * PAGE)).isTrue();
    assertThat(contiguous(kernel, parent, USER_VA + 6 * PAGE)).isTrue();
    machine.actOn(1);
    kernel.switchTo(1, child);
    machine.access(1, USER_VA + 6 * PAGE, 8, AccessKind.READ);
    machine.access(1, USER_VA + 6 * PAGE, 8, AccessKind.WRITE);

    assertThat(counter(kernel, "cowCopies")).isEqualTo(1);
    assertThat(counter(kernel, "contpteUnfolds")).isEqualTo(1);
    assertThat(contiguous(kernel, child, USER_VA)).isFalse();
    assertThat(contiguous(kernel, parent, USER_VA)).isTrue();
    kernel.exitMmap(1, child);
    machine.actOn(0);
    machine.access(0, USER_VA + 6 * PAGE, 8, AccessKind.WRITE);
    kernel.exitMmap(0, parent);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void clearingOnePteOfABlockWithoutUnfolding_isAMisprogrammedContiguousRun() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    Mm mm = oneFolio(kernel);

    // what a zap of part of the block would do if it skipped contpte_try_unfold
    kernel.tables().clearLeaf(mm.rootPfn(), USER_VA + 2 * PAGE, 0);
    kernel.tlbPolicy().flushTlbRange(0, mm, USER_VA, USER_VA + BLOCK, 12, true);
    machine.access(0, USER_VA + 5 * PAGE, 8, AccessKind.READ); // the issuer's TLB is clean: a walk

    assertThat(machine.oracle().count(ViolationKind.CONTIGUOUS_MISPROGRAMMED)).isPositive();
  }

  @Test
  void anUnfoldThatSkipsBreakBeforeMake_isABreakBeforeMakeViolation() {
    Kernel kernel = arm64();
    Machine machine = kernel.machine();
    Mm mm = oneFolio(kernel);

    // contpte_convert without its clear and TLBI: live entries lose the contiguous bit in place
    for (int i = 0; i < 16; i++) {
      long va = USER_VA + i * PAGE;
      kernel
          .tables()
          .updateFlags(mm.rootPfn(), va, flags(kernel, mm, va) & ~PteFlags.CONTIGUOUS, 0);
    }

    assertThat(machine.oracle().count(ViolationKind.BREAK_BEFORE_MAKE)).isEqualTo(16);
  }
}
