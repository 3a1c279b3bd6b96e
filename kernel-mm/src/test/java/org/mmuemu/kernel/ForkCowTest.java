package org.mmuemu.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * fork and copy-on-write (DOMAIN-FAULTS.md §5.1, §5.2): fork write-protects private pages on both
 * sides and flushes the parent, so the first store on either side faults; a store to a page another
 * mm still maps copies it, a store to a page this mapping holds alone reuses it without a flush;
 * shared file mappings are left to refault; a pinned page is copied for the child at once.
 */
final class ForkCowTest {
  private static final int PAGES = 4;

  private static long counter(Kernel kernel, String name) {
    return ((Number) kernel.counters().getOrDefault(name, 0L)).longValue();
  }

  private static long rangeFlushes(Machine machine) {
    var flushes = machine.stats().latencies().get("flush_tlb_range");
    return flushes == null ? 0 : flushes.count();
  }

  private static long pfn(Kernel kernel, Mm mm, long va) {
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    Machine machine = kernel.machine();
    return leaf == 0 ? -1 : machine.format().outputPa(leaf, machine.format().levels() - 1) >>> 12;
  }

  private static int flags(Kernel kernel, Mm mm, long va) {
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    return kernel.machine().format().flags(leaf, kernel.machine().format().levels() - 1);
  }

  /** A parent on core 0 that wrote every page of its anonymous VMA. */
  private static Mm populatedParent(Kernel kernel) {
    Machine machine = kernel.machine();
    Mm parent = UserProcesses.anonymous(kernel, PAGES);
    machine.actOn(0);
    kernel.switchTo(0, parent);
    for (int page = 0; page < PAGES; page++) {
      machine.access(0, USER_VA + ((long) page << 12), 8, AccessKind.WRITE);
    }
    return parent;
  }

  private static Mm runChildOnCore1(Kernel kernel, Mm parent) {
    Mm child = kernel.fork(0, parent);
    kernel.machine().actOn(1);
    kernel.switchTo(1, child);
    return child;
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void fork_sharesPrivatePagesReadOnly_andTheParentsNextStoreFaults(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    Mm parent = populatedParent(kernel);
    long page0 = pfn(kernel, parent, USER_VA);

    Mm child = kernel.fork(0, parent);

    for (int page = 0; page < PAGES; page++) {
      long va = USER_VA + ((long) page << 12);
      assertThat(pfn(kernel, child, va)).isEqualTo(pfn(kernel, parent, va));
      assertThat(flags(kernel, parent, va) & PteFlags.WRITE).isZero();
      assertThat(flags(kernel, child, va) & (PteFlags.WRITE | PteFlags.ACCESSED)).isZero();
    }
    assertThat(kernel.anonPages().mapcount(page0)).isEqualTo(2);
    assertThat(kernel.anonPages().exclusive(page0)).isFalse();
    assertThat(counter(kernel, "forks")).isEqualTo(1);
    assertThat(counter(kernel, "forkPtesWriteProtected")).isEqualTo(PAGES);
    assertThat(machine.stats().latencies().get("fork").count()).isEqualTo(1);

    // The parent's TLB held writable entries: without fork's flush this store would not fault.
    machine.access(0, USER_VA, 8, AccessKind.WRITE);

    assertThat(counter(kernel, "cowCopies")).isEqualTo(1);
    assertThat(pfn(kernel, parent, USER_VA)).isNotEqualTo(page0);
    assertThat(pfn(kernel, child, USER_VA)).isEqualTo(page0);
    assertThat(kernel.anonPages().mapcount(page0)).isEqualTo(1);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void childCopies_thenTheParentReusesItsPageWithoutAFlush(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    Mm parent = populatedParent(kernel);
    long page0 = pfn(kernel, parent, USER_VA);
    Mm child = runChildOnCore1(kernel, parent);

    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    assertThat(counter(kernel, "cowCopies")).isEqualTo(1);
    assertThat(pfn(kernel, child, USER_VA)).isNotEqualTo(page0);
    assertThat(flags(kernel, child, USER_VA) & PteFlags.WRITE).isNotZero();

    long flushesBefore = rangeFlushes(machine);
    machine.actOn(0);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);

    assertThat(counter(kernel, "cowReuseOnlyReference")).isEqualTo(1);
    assertThat(counter(kernel, "cowCopies")).isEqualTo(1);
    assertThat(pfn(kernel, parent, USER_VA)).isEqualTo(page0);
    assertThat(kernel.anonPages().exclusive(page0)).isTrue();
    assertThat(machine.stats().latencies().get("flush_tlb_range").count()).isEqualTo(flushesBefore);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void childExit_leavesSharedPagesToTheParent_andParentExitFreesThem(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    long framesAtStart = machine.memory().framesInUse();
    Mm parent = populatedParent(kernel);
    Mm child = runChildOnCore1(kernel, parent);
    machine.access(1, USER_VA, 8, AccessKind.WRITE); // one private copy in the child

    kernel.exitMmap(1, child);
    machine.actOn(0);
    for (int page = 0; page < PAGES; page++) {
      machine.access(0, USER_VA + ((long) page << 12), 8, AccessKind.WRITE);
    }

    // page 0 was never shared after the child's copy: its marker was gone, its count proved it
    assertThat(counter(kernel, "cowReuseOnlyReference")).isEqualTo(PAGES);
    assertThat(counter(kernel, "cowCopies")).isEqualTo(1);
    assertThat(kernel.anonPages().tracked()).isZero();
    kernel.exitMmap(0, parent);
    assertThat(machine.memory().framesInUse()).isLessThanOrEqualTo(framesAtStart + 1);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void sharedFileMappings_areNotCopied_theChildRefaultsThem(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    Mm parent = kernel.createMm();
    long fileVa = USER_VA + (1L << 30);
    kernel.mmap(0, parent, new Vma(fileVa, fileVa + (4 << 12), PteFlags.WRITE, "shm", file, 0));
    kernel.switchTo(0, parent);
    machine.access(0, fileVa, 8, AccessKind.WRITE);

    Mm child = runChildOnCore1(kernel, parent);

    assertThat(pfn(kernel, child, fileVa)).isEqualTo(-1);
    assertThat(counter(kernel, "forkVmasSkipped")).isEqualTo(1);
    assertThat(flags(kernel, parent, fileVa) & PteFlags.WRITE).isNotZero();
    machine.access(1, fileVa, 8, AccessKind.WRITE);
    assertThat(pfn(kernel, child, fileVa)).isEqualTo(pfn(kernel, parent, fileVa));
    assertThat(counter(kernel, "cowCopies")).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void aPinnedPage_isCopiedForTheChildAtFork(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Mm parent = populatedParent(kernel);
    long page0 = pfn(kernel, parent, USER_VA);
    Kernel.Pin pin = kernel.pinUserPageReadOnly(0, parent, USER_VA);
    assertThat(pin.pfn()).isEqualTo(page0);

    Mm child = kernel.fork(0, parent);

    assertThat(counter(kernel, "forkPinnedCopies")).isEqualTo(1);
    assertThat(pfn(kernel, child, USER_VA)).isNotEqualTo(page0);
    assertThat(flags(kernel, child, USER_VA) & PteFlags.WRITE).isNotZero();
    // the parent keeps its pinned page writable and exclusive: fork did not share it
    assertThat(flags(kernel, parent, USER_VA) & PteFlags.WRITE).isNotZero();
    assertThat(kernel.anonPages().exclusive(page0)).isTrue();
    kernel.unpinUserPage(0, pin);
    assertThat(counter(kernel, "gupPinsStale")).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void exclusiveMarker_letsAPinnedPageBeReused_whereTheCountAloneWouldCopy(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    Mm parent = populatedParent(kernel);
    Mm child = runChildOnCore1(kernel, parent);
    kernel.exitMmap(1, child);
    machine.actOn(0);
    long page1 = pfn(kernel, parent, USER_VA + 4096);

    // not exclusive after fork: the pin unshares first, which here only re-marks the page
    Kernel.Pin pin = kernel.pinUserPageReadOnly(0, parent, USER_VA + 4096);
    assertThat(counter(kernel, "gupUnshareFaults")).isEqualTo(1);
    assertThat(counter(kernel, "unshareReuses")).isEqualTo(1);
    assertThat(pin.pfn()).isEqualTo(page1);
    machine.access(0, USER_VA + 4096, 8, AccessKind.WRITE);

    // pinned (refcount 2) but marked exclusive: reused, the pin still sees the process's page
    assertThat(counter(kernel, "cowReuseExclusive")).isEqualTo(1);
    assertThat(pfn(kernel, parent, USER_VA + 4096)).isEqualTo(page1);
    kernel.unpinUserPage(0, pin);
    assertThat(counter(kernel, "gupPinsStale")).isZero();
    assertThat(Map.copyOf(kernel.counters())).doesNotContainKey("cowCopies");
  }

  /**
   * DOMAIN-FAULTS.md §7 S7: reuse only adds permission, so it does not flush; another thread that
   * still caches the read-only entry takes a spurious write fault, finds the PTE writable and goes
   * on, without a second reuse or a copy.
   */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void afterReuse_anotherThreadsStaleReadOnlyEntry_takesASpuriousFaultOnly(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    Mm parent = populatedParent(kernel);
    Mm child = kernel.fork(0, parent);
    machine.actOn(1);
    kernel.switchTo(1, parent);
    machine.access(1, USER_VA, 8, AccessKind.READ); // core 1 caches the read-only entry
    kernel.exitMmap(0, child);
    machine.actOn(0);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    assertThat(counter(kernel, "cowReuseOnlyReference")).isEqualTo(1);
    long flushes = rangeFlushes(machine);
    long permissionFaults = counter(kernel, "permissionFaults");

    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);

    assertThat(counter(kernel, "permissionFaults")).isEqualTo(permissionFaults + 1);
    assertThat(counter(kernel, "cowReuseOnlyReference") + counter(kernel, "cowReuseExclusive"))
        .isEqualTo(1);
    assertThat(counter(kernel, "cowCopies")).isZero();
    assertThat(rangeFlushes(machine)).isEqualTo(flushes);
    assertThat(machine.oracle().total()).isZero();
  }
}
