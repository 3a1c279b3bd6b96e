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
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * FAULT_FLAG_UNSHARE and its 6.2 extension (DOMAIN-FAULTS.md §5.3): a read-only long-term pin of a
 * page-cache page in a private file mapping unshares it first ({@code unshareScope=cowMapping}), so
 * the pin and the process keep the same page through the process's later store; before 6.2 ({@code
 * anonOnly}) the page-cache page is pinned as it is and the store moves the process to a copy.
 */
final class UnshareTest {
  private static long counter(Kernel kernel, String name) {
    return ((Number) kernel.counters().getOrDefault(name, 0L)).longValue();
  }

  private static long mappedPfn(Kernel kernel, Mm mm, long va) {
    Machine machine = kernel.machine();
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    return machine.format().outputPa(leaf, machine.format().levels() - 1) >>> 12;
  }

  @ParameterizedTest
  @CsvSource({
    "arm64, cowMapping, 1, 0",
    "x86, cowMapping, 1, 0",
    "arm64, anonOnly, 0, 1",
    "x86, anonOnly, 0, 1"
  })
  void pinOfAPrivateFilePage_staysCoherentOnlyWhenUnshareCoversCowMappings(
      String isa, String scope, long expectedUnshareCopies, long expectedStalePins) {
    Kernel kernel = KernelBoot.on(isa).variants(Map.of("unshareScope", scope)).boot();
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("lib", 4 << 12);
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, Vma.privateFile(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "f", file, 0));
    kernel.switchTo(0, mm);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    long cachePfn = kernel.pageCache().lookup(file, 0).pfn();
    assertThat(mappedPfn(kernel, mm, USER_VA)).isEqualTo(cachePfn);

    Kernel.Pin pin = kernel.pinUserPageReadOnly(0, mm, USER_VA);

    assertThat(counter(kernel, "unshareCopies")).isEqualTo(expectedUnshareCopies);
    assertThat(pin.anon()).isEqualTo(expectedUnshareCopies == 1);
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA);
    assertThat(machine.format().flags(leaf, machine.format().levels() - 1) & PteFlags.WRITE)
        .as("an unshared page stays read-only")
        .isZero();

    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    kernel.unpinUserPage(0, pin);

    assertThat(counter(kernel, "gupPinsStale")).isEqualTo(expectedStalePins);
    assertThat(kernel.pageCache().lookup(file, 0).pfn()).isEqualTo(cachePfn);
    assertThat(mappedPfn(kernel, mm, USER_VA)).isNotEqualTo(cachePfn);
    assertThat(machine.oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void pinOfAnAnonymousPageSharedWithAChild_copiesItReadOnlyAndFlushes(String isa) {
    Kernel kernel = KernelBoot.on(isa).boot();
    Machine machine = kernel.machine();
    Mm parent = org.mmuemu.kernel.testkit.UserProcesses.anonymous(kernel, 2);
    kernel.switchTo(0, parent);
    machine.access(0, USER_VA, 8, AccessKind.WRITE);
    long shared = mappedPfn(kernel, parent, USER_VA);
    Mm child = kernel.fork(0, parent);
    long flushesBefore =
        machine.stats().latencies().get("flush_tlb_range") == null
            ? 0
            : machine.stats().latencies().get("flush_tlb_range").count();

    Kernel.Pin pin = kernel.pinUserPageReadOnly(0, parent, USER_VA);

    assertThat(counter(kernel, "gupUnshareFaults")).isEqualTo(1);
    assertThat(counter(kernel, "unshareCopies")).isEqualTo(1);
    assertThat(pin.pfn()).isNotEqualTo(shared).isEqualTo(mappedPfn(kernel, parent, USER_VA));
    assertThat(mappedPfn(kernel, child, USER_VA)).isEqualTo(shared);
    assertThat(machine.stats().latencies().get("flush_tlb_range").count())
        .isEqualTo(flushesBefore + 1);
    kernel.unpinUserPage(0, pin);
  }
}
