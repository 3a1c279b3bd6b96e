package org.mmuemu.kernel.pagecache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Fault-around ({@code fault_around_bytes}): a read fault in a file mapping also maps the
 * already-cached pages of its aligned window, write-protected, so reading them costs no fault;
 * pages outside the window, or not cached, still fault; a one-page window turns it off.
 */
final class FaultAroundTest {

  private static Kernel boot(String isa, long faultAroundBytes) {
    return KernelBoot.on(isa).tunable("faultAroundBytes", faultAroundBytes).boot();
  }

  @ParameterizedTest
  @CsvSource({
    "arm64, 65536, 2",
    "x86, 65536, 2",
    "arm64, 4096, 14",
    "x86, 16384, 5",
    "arm64, 20000, 5"
  })
  void readingACachedFile_faultsOncePerWindow(
      String isa, long faultAroundBytes, long expectedFaults) {
    Kernel kernel = boot(isa, faultAroundBytes);
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 32 << 12);
    Mm first = kernel.createMm();
    kernel.mmap(0, first, new Vma(USER_VA, USER_VA + (32 << 12), PteFlags.WRITE, "file", file, 0));
    kernel.switchTo(0, first);
    for (int page = 0; page < 16; page++) {
      machine.access(0, USER_VA + (page << 12), 8, AccessKind.READ); // caches pages 0-15
    }
    long faultsBefore = (Long) kernel.counters().get("fileFaults");

    Mm second = kernel.createMm();
    kernel.mmap(0, second, new Vma(USER_VA, USER_VA + (32 << 12), PteFlags.WRITE, "file", file, 0));
    kernel.switchTo(1, second);
    machine.actOn(1);
    for (int page = 3; page < 16; page++) {
      machine.access(1, USER_VA + (page << 12), 8, AccessKind.READ);
    }
    machine.access(1, USER_VA + (16 << 12), 8, AccessKind.READ); // not cached: its own fault

    long secondFaults = (Long) kernel.counters().get("fileFaults") - faultsBefore;
    // pages 3..15: one fault per aligned window they span (20000 rounds down to 16 KiB); page 16:
    // one more
    assertThat(secondFaults).isEqualTo(expectedFaults);
    assertThat(kernel.counters())
        .containsEntry(
            "faultAroundPages",
            faultAroundBytes == 65536 ? 15L : faultAroundBytes == 4096 ? 0L : 12L);
    long leaf = kernel.tables().leafDescriptor(second.rootPfn(), USER_VA + (15 << 12));
    assertThat(machine.format().flags(leaf, machine.format().levels() - 1) & PteFlags.WRITE)
        .isZero();
    assertThat(machine.oracle().total()).isZero();
  }

  /**
   * The worked examples of DOMAIN-FAULTS.md §3.2 (Linux 6.4 {@code do_fault_around}, 16 pages): the
   * window starts at the aligned index or at the VMA's start inside the PTE table, runs 16 pages
   * from there, and stops at the table's and the VMA's end. Every file page is cached, so exactly
   * the window gets mapped.
   *
   * @param vmaStartIndex PTE index where the VMA begins in the faulting table, -1 for an earlier
   *     table
   * @param pagesFromFault VMA pages from the faulting one (included) to the VMA's end
   */
  @ParameterizedTest
  @CsvSource({
    "arm64, -1, 37, 200, 32, 47",
    "x86, 3, 10, 90, 3, 18",
    "arm64, -1, 509, 100, 496, 511",
    "x86, -1, 40, 2, 32, 41",
    "x86, 3, 10, 90, 3, 18"
  })
  void window_isAlignedAndClippedToTheVmaAndThePteTable(
      String isa,
      int vmaStartIndex,
      int faultIndex,
      int pagesFromFault,
      int firstMapped,
      int lastMapped) {
    Kernel kernel = boot(isa, 65536);
    Machine machine = kernel.machine();
    long table = USER_VA + (2L << 20);
    long vmaStart = vmaStartIndex < 0 ? table - (8L << 12) : table + ((long) vmaStartIndex << 12);
    long vmaEnd = table + ((long) (faultIndex + pagesFromFault) << 12);
    MappedFile file = kernel.pageCache().createFile("f", vmaEnd - vmaStart);
    for (long index = 0; index < file.pages(); index++) {
      kernel.pageCache().readPage(file, index);
    }
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(vmaStart, vmaEnd, PteFlags.WRITE, "file", file, 0));
    kernel.switchTo(0, mm);

    machine.access(0, table + ((long) faultIndex << 12), 8, AccessKind.READ);

    for (int index = -8; index < 520; index++) {
      long va = table + ((long) index << 12);
      boolean mapped = kernel.tables().leafDescriptor(mm.rootPfn(), va) != 0;
      assertThat(mapped)
          .as("PTE index %d", index)
          .isEqualTo(index >= firstMapped && index <= lastMapped);
    }
    assertThat(kernel.counters())
        .containsEntry("faultAroundPages", (long) (lastMapped - firstMapped));
  }

  /**
   * Linux's {@code arch_wants_old_prefaulted_pte}: arm64, whose CPUs here set the access flag in
   * hardware, maps the pages around the fault old, with or without contiguous PTEs; x86 maps them
   * young. The faulting page itself is young on both, and the first use of an old one sets the flag
   * (the walk's update).
   */
  @ParameterizedTest
  @CsvSource({"arm64, auto, true", "arm64, off, true", "x86, auto, false"})
  void pagesMappedAroundTheFault_areOldWhereTheArchWantsIt(
      String isa, String contpte, boolean old) {
    KernelBoot boot = KernelBoot.on(isa).tunable("faultAroundBytes", 65536L);
    if (isa.equals("arm64")) {
      boot.variants(Map.of("arm64Contpte", contpte));
    }
    Kernel kernel = boot.boot();
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 16 << 12);
    for (long index = 0; index < file.pages(); index++) {
      kernel.pageCache().readPage(file, index);
    }
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (16 << 12), PteFlags.WRITE, "file", file, 0));
    kernel.switchTo(0, mm);

    machine.access(0, USER_VA, 8, AccessKind.READ);

    assertThat(kernel.counters()).containsEntry("faultAroundPages", 15L);
    assertThat(accessed(kernel, mm, USER_VA)).isTrue();
    for (int page = 1; page < 16; page++) {
      assertThat(accessed(kernel, mm, USER_VA + (page << 12))).as("page %d", page).isEqualTo(!old);
    }
    machine.access(0, USER_VA + (5 << 12), 8, AccessKind.READ);
    assertThat(accessed(kernel, mm, USER_VA + (5 << 12))).isTrue();
    assertThat(machine.oracle().total()).isZero();
  }

  private static boolean accessed(Kernel kernel, Mm mm, long va) {
    int level = kernel.machine().format().levels() - 1;
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), va);
    return (kernel.machine().format().flags(leaf, level) & PteFlags.ACCESSED) != 0;
  }
}
