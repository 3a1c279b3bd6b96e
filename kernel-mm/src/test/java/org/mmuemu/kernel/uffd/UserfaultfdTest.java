package org.mmuemu.kernel.uffd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.SwapPte;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * UFFDIO_WRITEPROTECT's page-table effects and the invariants UW1 and UW3: a protected present PTE
 * is read-only and carries the bit, resolve makes it writable again; with WP_UNPOPULATED empty
 * slots get markers (tables allocated down to the PTE level), which a zap drops. The checks report
 * a PTE made writable behind the bit's back and a marker left after a zap.
 */
final class UserfaultfdTest {
  private static final long PAGES = 4;

  private static Mm process(Kernel kernel) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + PAGES * 4096, PteFlags.WRITE, "region"));
    kernel.switchTo(0, mm);
    return mm;
  }

  // a process whose first page was stored to, its mapping registered and protected as a whole
  private static Mm protectAfterOneStore(Kernel kernel) {
    Mm mm = process(kernel);
    kernel.machine().access(0, USER_VA, 8, AccessKind.WRITE);
    kernel.userfaultfd().register(0, mm, USER_VA, USER_VA + PAGES * 4096, false);
    kernel.userfaultfd().writeProtect(0, mm, USER_VA, USER_VA + PAGES * 4096, true);
    return mm;
  }

  private static int flags(Kernel kernel, Mm mm, long va) {
    Machine machine = kernel.machine();
    return machine
        .format()
        .flags(kernel.tables().leafDescriptor(mm.rootPfn(), va), machine.format().levels() - 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void protect_writeProtectsPresentPtes_resolveMakesThemWritable(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Mm mm = protectAfterOneStore(kernel);
    Userfaultfd uffd = kernel.userfaultfd();

    assertThat(flags(kernel, mm, USER_VA) & PteFlags.WRITE).isZero();
    assertThat(uffd.isWriteProtected(mm, USER_VA)).isTrue();
    assertThat(kernel.tables().leafEntry(mm.rootPfn(), USER_VA + 4096)).isZero(); // no markers
    assertThat(kernel.counters().get("uffdWpProtectedPtes")).isEqualTo(1L);

    uffd.writeProtect(0, mm, USER_VA, USER_VA + 4096, false);

    assertThat(flags(kernel, mm, USER_VA) & PteFlags.WRITE).isNotZero();
    assertThat(uffd.isWriteProtected(mm, USER_VA)).isFalse();
    assertThat(kernel.machine().oracle().count(ViolationKind.UFFD_WP)).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void uw1_aProtectedPteMadeWritable_isReported(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Mm mm = protectAfterOneStore(kernel);
    Userfaultfd uffd = kernel.userfaultfd();

    // a path that rebuilds the PTE from the VMA's protection alone (the NUMA-restore bug class)
    kernel
        .tables()
        .updateFlags(mm.rootPfn(), USER_VA, flags(kernel, mm, USER_VA) | PteFlags.WRITE, 0);
    uffd.checkNotWritable(0, mm, USER_VA);

    assertThat(kernel.machine().oracle().count(ViolationKind.UFFD_WP)).isEqualTo(1);
    assertThat(kernel.machine().oracle().recorded().get(0).detail()).startsWith("UW1:");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void wpUnpopulated_installsMarkers_andAZapDropsThem(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Mm mm = process(kernel);
    Userfaultfd uffd = kernel.userfaultfd();
    uffd.register(0, mm, USER_VA, USER_VA + PAGES * 4096, true);
    long tablesBefore = kernel.tables().tablesAllocated();

    uffd.writeProtect(0, mm, USER_VA, USER_VA + PAGES * 4096, true);

    for (long page = 0; page < PAGES; page++) {
      assertThat(SwapPte.isMarker(kernel.tables().leafEntry(mm.rootPfn(), USER_VA + page * 4096)))
          .isTrue();
    }
    assertThat(kernel.tables().tablesAllocated()).isGreaterThan(tablesBefore);
    assertThat(kernel.counters().get("uffdWpMarkersInstalled")).isEqualTo(PAGES);

    kernel.madviseDontneed(0, mm, USER_VA, USER_VA + PAGES * 4096);

    assertThat(kernel.tables().leafEntry(mm.rootPfn(), USER_VA)).isZero();
    assertThat(kernel.counters().get("uffdWpMarkersZapped")).isEqualTo(PAGES);
    assertThat(kernel.machine().oracle().count(ViolationKind.UFFD_WP)).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void aStoreThroughAMarker_givesTheVmaItsAnonVma(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Mm mm = process(kernel);
    Userfaultfd uffd = kernel.userfaultfd();
    uffd.register(0, mm, USER_VA, USER_VA + PAGES * 4096, true);
    uffd.writeProtect(0, mm, USER_VA, USER_VA + PAGES * 4096, true);
    Vma vma = mm.findVma(USER_VA, new int[1]);
    assertThat(mm.vmaLock(vma).hasAnonVma()).isFalse();

    // the store's fault through the marker maps a new page, write-protected; the store's userfault
    // that follows needs a run's monitor, which this test has not
    assertThatThrownBy(() -> kernel.machine().access(0, USER_VA, 8, AccessKind.WRITE))
        .hasMessageContaining("no monitor can wake it");

    // so fork copies the range (vma_needs_copy), which now holds an anonymous page
    assertThat(mm.vmaLock(vma).hasAnonVma()).isTrue();
    assertThat(kernel.tables().leafLevel(mm.rootPfn(), USER_VA)).isNotNegative();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void uw3_aMarkerLeftAfterAZap_isReported(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Mm mm = process(kernel);
    kernel.userfaultfd().register(0, mm, USER_VA, USER_VA + PAGES * 4096, true);
    kernel
        .tables()
        .writeLeafEntry(mm.rootPfn(), USER_VA, SwapPte.marker(SwapPte.MARKER_UFFD_WP), 0);

    kernel.userfaultfd().checkZapped(0, mm, USER_VA, USER_VA + PAGES * 4096);

    assertThat(kernel.machine().oracle().count(ViolationKind.UFFD_WP)).isEqualTo(1);
    assertThat(kernel.machine().oracle().recorded().get(0).detail()).startsWith("UW3:");
  }
}
