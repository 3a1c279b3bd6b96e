package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * The shared zero page and the huge zero page: a read fault maps them read-only instead of
 * allocating; a store replaces them by a new page; zap, fork, GUP, NUMA scans, mprotect and
 * userfaultfd never free, refcount or make writable the zero frames, and the oracle stays silent
 * with many address spaces mapping them.
 */
final class ZeroPageTest {
  private static final long HUGE = 2L << 20;

  private static long counter(Kernel kernel, String name) {
    return ((Number) kernel.counters().getOrDefault(name, 0L)).longValue();
  }

  private static long pfnAt(Kernel kernel, Mm mm, long va) {
    int level = kernel.tables().leafLevel(mm.rootPfn(), va);
    if (level < 0) {
      return -1;
    }
    long descriptor = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    long pa = kernel.machine().format().outputPa(descriptor, level);
    return (pa + (va & ((1L << kernel.machine().format().levelShift(level)) - 1)))
        >>> PhysicalMemory.FRAME_SHIFT;
  }

  private static boolean writable(Kernel kernel, Mm mm, long va) {
    int level = kernel.tables().leafLevel(mm.rootPfn(), va);
    long descriptor = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    return (kernel.machine().format().flags(descriptor, level) & PteFlags.WRITE) != 0;
  }

  private static Mm process(Kernel kernel, long pages) {
    Mm mm = UserProcesses.anonymous(kernel, pages);
    kernel.switchTo(0, mm);
    return mm;
  }

  private static void readAll(Machine machine, long pages) {
    for (long page = 0; page < pages; page++) {
      machine.access(0, USER_VA + (page << 12), 8, AccessKind.READ);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void readFaults_mapTheOneZeroFrameReadOnly_inEveryProcess_andAllocateNothing(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).boot();
    Machine machine = kernel.machine();
    Mm first = process(kernel, 8);
    readAll(machine, 8);
    long zeroPfn = pfnAt(kernel, first, USER_VA);
    Mm second = process(kernel, 8);
    readAll(machine, 8);

    for (long page = 0; page < 8; page++) {
      assertThat(pfnAt(kernel, first, USER_VA + (page << 12))).isEqualTo(zeroPfn);
      assertThat(pfnAt(kernel, second, USER_VA + (page << 12))).isEqualTo(zeroPfn);
      assertThat(writable(kernel, second, USER_VA + (page << 12))).isFalse();
    }
    assertThat(machine.memory().kind(zeroPfn)).isEqualTo(FrameKind.KERNEL);
    assertThat(kernel.counters())
        .containsEntry("zeroPageReadFaults", 16L)
        .containsEntry("dataPagesAllocated", 0L);
    // a VMA that only holds the zero page gets no anon_vma, so 6.4 takes mmap_lock every time
    assertThat(counter(kernel, "vmaLockSuccess")).isZero();
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void aStoreToTheZeroPage_allocatesAZeroedPage_flushesTheOldEntry_andFreesNothing(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 4);
    kernel.switchTo(1, mm);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    long zeroPfn = pfnAt(kernel, mm, USER_VA);
    machine.access(1, USER_VA, 8, AccessKind.READ); // core 1 caches the zero page's entry
    assertThat(machine.stats().latencies()).doesNotContainKey("flush_tlb_range");

    assertThat(machine.access(0, USER_VA, 8, AccessKind.WRITE)).isTrue();

    long newPfn = pfnAt(kernel, mm, USER_VA);
    assertThat(newPfn).isNotEqualTo(zeroPfn);
    assertThat(writable(kernel, mm, USER_VA)).isTrue();
    assertThat(machine.stats().latencies().get("flush_tlb_range").count()).isEqualTo(1);
    assertThat(kernel.counters())
        .containsEntry("zeroPageCowFaults", 1L)
        .containsEntry("dataPagesAllocated", 1L)
        .containsEntry("permissionFaults", 1L)
        .doesNotContainKey("cowCopies");
    assertThat(machine.memory().isAllocated(zeroPfn)).isTrue();
    // core 1's next read, once the broadcast reached it, finds the new page
    machine.charge(1, machine.now(0));
    assertThat(machine.translate(1, USER_VA, AccessKind.READ) >>> PhysicalMemory.FRAME_SHIFT)
        .isEqualTo(newPfn);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @CsvSource({"arm64, munmap", "x86, munmap", "arm64, madvise", "x86, madvise", "x86, exit"})
  void aZapOfZeroPagePtes_flushesThem_andFreesNoFrame(String isa, String zap) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 8);
    kernel.switchTo(1, mm);
    readAll(machine, 8);
    machine.access(1, USER_VA, 8, AccessKind.READ);
    long zeroPfn = pfnAt(kernel, mm, USER_VA);
    long framesBefore = machine.memory().framesInUse();

    switch (zap) {
      case "munmap" -> kernel.munmap(0, mm, USER_VA, USER_VA + (8L << 12));
      case "madvise" -> kernel.madviseDontneed(0, mm, USER_VA, USER_VA + (8L << 12));
      default -> kernel.exitMmap(0, mm);
    }

    assertThat(counter(kernel, "pagesFreed")).isZero();
    assertThat(machine.memory().isAllocated(zeroPfn)).isTrue();
    assertThat(machine.memory().framesInUse()).isLessThanOrEqualTo(framesBefore);
    if (zap.equals("madvise")) {
      // the range refaults to the zero page; the other core's old entry was flushed
      assertThat(machine.access(1, USER_VA, 8, AccessKind.READ)).isTrue();
      assertThat(pfnAt(kernel, mm, USER_VA)).isEqualTo(zeroPfn);
    }
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void fork_sharesZeroPagePtesAsTheyAre_andEachSideBreaksItsOwn(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm parent = process(kernel, 4);
    machine.access(0, USER_VA + 4096, 8, AccessKind.WRITE); // the VMA gets an anon_vma
    readAll(machine, 4);
    long zeroPfn = pfnAt(kernel, parent, USER_VA);

    Mm child = kernel.fork(0, parent);
    kernel.switchTo(1, child);

    assertThat(pfnAt(kernel, child, USER_VA)).isEqualTo(zeroPfn);
    assertThat(writable(kernel, child, USER_VA)).isFalse();
    assertThat(counter(kernel, "forkZeroPtesCopied")).isEqualTo(3);
    assertThat(kernel.anonPages().tracked()).isEqualTo(1); // only the stored page is shared
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    assertThat(pfnAt(kernel, child, USER_VA)).isNotIn(zeroPfn, -1L);
    assertThat(pfnAt(kernel, parent, USER_VA)).isEqualTo(zeroPfn);
    kernel.exitMmap(1, child);
    assertThat(machine.memory().isAllocated(zeroPfn)).isTrue();
    assertThat(counter(kernel, "zeroPageCowFaults")).isEqualTo(1);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void fork_skipsAVmaThatOnlyEverMappedTheZeroPage_andTheChildRefaultsIt(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).boot();
    Machine machine = kernel.machine();
    Mm parent = process(kernel, 4);
    readAll(machine, 4); // reads only: the VMA gets no anon_vma
    long zeroPfn = pfnAt(kernel, parent, USER_VA);

    Mm child = kernel.fork(0, parent);

    assertThat(counter(kernel, "forkVmasSkipped")).isEqualTo(1);
    assertThat(counter(kernel, "forkPtesCopied")).isZero();
    assertThat(pfnAt(kernel, child, USER_VA)).isEqualTo(-1L);
    assertThat(pfnAt(kernel, parent, USER_VA)).isEqualTo(zeroPfn);
    kernel.switchTo(1, child);
    long readFaults = counter(kernel, "zeroPageReadFaults");
    assertThat(machine.access(1, USER_VA, 8, AccessKind.READ)).isTrue();
    assertThat(pfnAt(kernel, child, USER_VA)).isEqualTo(zeroPfn);
    assertThat(counter(kernel, "zeroPageReadFaults")).isEqualTo(readFaults + 1);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @CsvSource({"arm64, cowMapping", "x86, cowMapping", "arm64, anonOnly", "x86, anonOnly"})
  void aLongTermPinOfUntouchedMemory_unsharesTheZeroPage_onlySince62(String isa, String scope) {
    Kernel kernel = KernelBoot.on(isa).cores(1).variants(Map.of("unshareScope", scope)).boot();
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 2);

    Kernel.Pin pin = kernel.pinUserPageReadOnly(0, mm, USER_VA);

    boolean unshares = scope.equals("cowMapping");
    assertThat(counter(kernel, "zeroPageReadFaults")).isEqualTo(1); // GUP's read fault
    assertThat(counter(kernel, "zeroPageUnshares")).isEqualTo(unshares ? 1 : 0);
    assertThat(pin.anon()).isEqualTo(unshares);
    assertThat(pin.pfn()).isEqualTo(pfnAt(kernel, mm, USER_VA));
    assertThat(writable(kernel, mm, USER_VA)).isFalse(); // unshare leaves the page read-only
    machine.access(0, USER_VA, 8, AccessKind.WRITE); // reuses the exclusive page, or breaks COW
    kernel.unpinUserPage(0, pin);
    assertThat(counter(kernel, "gupPinsStale")).isEqualTo(unshares ? 0 : 1);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void numaScans_leaveZeroPagePtes_andMprotectNeverMakesThemWritable(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).boot();
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 4);
    readAll(machine, 4);
    long zeroPfn = pfnAt(kernel, mm, USER_VA);
    kernel.numaBalancing().enable(1_000, 1_000);
    kernel.numaBalancing().startTask(0, mm, 1000);
    while (!machine.stats().kernelCounters().containsKey("numaScans")) {
      machine.charge(0, 1_000);
      kernel.numaBalancing().tick(0);
    }
    assertThat(machine.stats().kernelCounters().getOrDefault("numaPteUpdates", 0L)).isZero();
    assertThat(kernel.numaBalancing().isHintingFault(mm, USER_VA)).isFalse();

    kernel.mprotect(0, mm, USER_VA, USER_VA + (4L << 12), 0);
    kernel.mprotect(0, mm, USER_VA, USER_VA + (4L << 12), PteFlags.WRITE);
    assertThat(pfnAt(kernel, mm, USER_VA)).isEqualTo(zeroPfn);
    assertThat(writable(kernel, mm, USER_VA)).isFalse();
    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    assertThat(pfnAt(kernel, mm, USER_VA)).isNotEqualTo(zeroPfn);
    assertThat(counter(kernel, "zeroPageCowFaults")).isEqualTo(1);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void resolvingUffdWpOnTheZeroPage_clearsTheBit_butKeepsItReadOnly(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).boot();
    Machine machine = kernel.machine();
    Mm mm = process(kernel, 2);
    readAll(machine, 2);
    long zeroPfn = pfnAt(kernel, mm, USER_VA);
    kernel.userfaultfd().register(0, mm, USER_VA, USER_VA + 8192, false);
    kernel.userfaultfd().writeProtect(0, mm, USER_VA, USER_VA + 8192, true);
    assertThat(kernel.userfaultfd().isWriteProtected(mm, USER_VA)).isTrue();

    kernel.userfaultfd().writeProtect(0, mm, USER_VA, USER_VA + 8192, false);

    assertThat(kernel.userfaultfd().isWriteProtected(mm, USER_VA)).isFalse();
    assertThat(pfnAt(kernel, mm, USER_VA)).isEqualTo(zeroPfn);
    assertThat(writable(kernel, mm, USER_VA)).isFalse();
    assertThat(machine.oracle().total()).isZero();
  }

  private static Mm hugeProcess(Kernel kernel) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + 2 * HUGE, PteFlags.WRITE, "heap"));
    kernel.switchTo(0, mm);
    return mm;
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void thpRead_mapsTheHugeZeroPageWithOnePmd_allocatedOnce_andAStoreReplacesItWithAThp(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).tunable("thp", "always").boot();
    Machine machine = kernel.machine();
    Mm first = hugeProcess(kernel);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    Mm second = hugeProcess(kernel);
    machine.access(0, USER_VA + HUGE, 8, AccessKind.READ);
    kernel.switchTo(1, second);
    machine.access(1, USER_VA + HUGE + 4096, 8, AccessKind.READ); // a 2 MiB TLB entry on core 1

    long headPfn = pfnAt(kernel, first, USER_VA);
    assertThat(kernel.tables().leafLevel(first.rootPfn(), USER_VA)).isEqualTo(2);
    assertThat(pfnAt(kernel, second, USER_VA + HUGE)).isEqualTo(headPfn);
    assertThat(pfnAt(kernel, second, USER_VA + HUGE + 4096)).isEqualTo(headPfn + 1);
    assertThat(writable(kernel, first, USER_VA)).isFalse();
    assertThat(kernel.counters())
        .containsEntry("thpZeroPageAlloc", 1L)
        .containsEntry("hugeZeroPageReadFaults", 2L)
        .containsEntry("dataPagesAllocated", 0L);

    machine.access(0, USER_VA + HUGE + 8, 8, AccessKind.WRITE);

    assertThat(kernel.tables().leafLevel(second.rootPfn(), USER_VA + HUGE)).isEqualTo(2);
    assertThat(pfnAt(kernel, second, USER_VA + HUGE)).isNotEqualTo(headPfn);
    assertThat(writable(kernel, second, USER_VA + HUGE)).isTrue();
    assertThat(kernel.counters())
        .containsEntry("hugeZeroPageCowFaults", 1L)
        .containsEntry("thpFaultAlloc", 1L)
        .containsEntry("dataPagesAllocated", 512L);
    machine.charge(1, machine.now(0));
    assertThat(machine.translate(1, USER_VA + HUGE + 4096, AccessKind.READ) >>> 12)
        .isEqualTo(pfnAt(kernel, second, USER_VA + HUGE + 4096));
    assertThat(machine.memory().isAllocated(headPfn)).isTrue();
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void splittingTheHugeZeroPmd_mapsTheSmallZeroPage_andZapsFreeNothing(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(1).tunable("thp", "always").boot();
    Machine machine = kernel.machine();
    Mm mm = hugeProcess(kernel);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    long headPfn = pfnAt(kernel, mm, USER_VA);
    machine.access(0, USER_VA + HUGE, 8, AccessKind.READ); // a second huge zero PMD, zapped whole

    kernel.munmap(0, mm, USER_VA, USER_VA + 4096); // part of the first: split, then zap a PTE
    long zeroPfn = pfnAt(kernel, mm, USER_VA + 4096);

    assertThat(kernel.tables().leafLevel(mm.rootPfn(), USER_VA + 4096)).isEqualTo(3);
    assertThat(pfnAt(kernel, mm, USER_VA + HUGE - 4096)).isEqualTo(zeroPfn);
    assertThat(zeroPfn).isNotEqualTo(headPfn);
    assertThat(counter(kernel, "hugeZeroPageSplits")).isEqualTo(1);
    kernel.munmap(0, mm, USER_VA + HUGE, USER_VA + 2 * HUGE);
    assertThat(counter(kernel, "pagesFreed")).isZero();
    assertThat(machine.memory().isAllocated(headPfn)).isTrue();
    assertThat(machine.memory().isAllocated(zeroPfn)).isTrue();
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void fork_copiesTheHugeZeroPmdWhole(String isa) {
    Kernel kernel = KernelBoot.on(isa).cores(2).tunable("thp", "always").boot();
    Machine machine = kernel.machine();
    Mm parent = hugeProcess(kernel);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    long headPfn = pfnAt(kernel, parent, USER_VA);

    Mm child = kernel.fork(0, parent);

    assertThat(kernel.tables().leafLevel(child.rootPfn(), USER_VA)).isEqualTo(2);
    assertThat(pfnAt(kernel, child, USER_VA)).isEqualTo(headPfn);
    assertThat(kernel.tables().leafLevel(parent.rootPfn(), USER_VA)).isEqualTo(2);
    assertThat(counter(kernel, "forkHugeZeroPmdsCopied")).isEqualTo(1);
    assertThat(counter(kernel, "thpSplitPmd")).isZero();
    kernel.switchTo(1, child);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    assertThat(pfnAt(kernel, child, USER_VA)).isNotEqualTo(headPfn);
    kernel.exitMmap(1, child);
    assertThat(machine.memory().isAllocated(headPfn)).isTrue();
    assertThat(pfnAt(kernel, parent, USER_VA)).isEqualTo(headPfn);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void withoutUseZeroPage_aThpReadAllocatesAHugePage(String isa) {
    Kernel kernel =
        KernelBoot.on(isa)
            .cores(1)
            .tunable("thp", "always")
            .tunable("thpUseZeroPage", false)
            .boot();
    Mm mm = hugeProcess(kernel);

    kernel.machine().access(0, USER_VA, 8, AccessKind.READ);

    assertThat(kernel.tables().leafLevel(mm.rootPfn(), USER_VA)).isEqualTo(2);
    assertThat(kernel.counters())
        .containsEntry("thpFaultAlloc", 1L)
        .containsEntry("dataPagesAllocated", 512L)
        .doesNotContainKey("thpZeroPageAlloc");
  }
}
