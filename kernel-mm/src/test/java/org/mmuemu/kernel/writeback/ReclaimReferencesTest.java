package org.mmuemu.kernel.writeback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.ReadAdvice;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Reclaim's reference check on mapped page-cache pages ({@code folio_check_references} over {@code
 * folio_referenced}): a page read through a mapping since the last pass is kept and its accessed
 * flag cleared (arm64 with a TLBI it does not wait for, x86 with none), a page found referenced
 * twice is activated, an idle one is reclaimed; and {@code vma_has_recency}: references through a
 * VMA advised {@code MADV_SEQUENTIAL} or {@code MADV_RANDOM} are skipped (6.3+) or, before 6.3,
 * cleared everywhere and ignored only for {@code MADV_SEQUENTIAL}.
 */
final class ReclaimReferencesTest {
  private static final long FAR_CYCLES = 10_000_000; // past every broadcast's arrival

  private static Kernel boot(String isa, String vmaRecency) {
    return KernelBoot.on(isa).cores(2).variants(Map.of("vmaRecency", vmaRecency)).boot();
  }

  /** A process mapping a new 4-page shared file with {@code advice}, running on cores 0 and 1. */
  private static Mm processMappingAFile(Kernel kernel, ReadAdvice advice) {
    Mm mm = kernel.createMm();
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    Vma vma = new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "file", file, 0);
    kernel.mmap(0, mm, vma.withReadAdvice(advice));
    kernel.switchTo(0, mm);
    kernel.switchTo(1, mm);
    return mm;
  }

  /** Core 1 loads page 0, then core 0 runs one reclaim pass over mapped pages. */
  private static int readOnCore1ThenReclaim(Kernel kernel, Writeback writeback) {
    readOnCore1(kernel);
    return writeback.reclaim(0, 4, true);
  }

  /** Core 1 loads page 0 (after every earlier broadcast reached it); core 0 runs next. */
  private static void readOnCore1(Kernel kernel) {
    Machine machine = kernel.machine();
    machine.actOn(1);
    machine.clocks().waitUntil(1, machine.now(0) + FAR_CYCLES);
    machine.access(1, USER_VA, 8, AccessKind.READ);
    machine.actOn(0);
    machine.clocks().waitUntil(0, machine.now(1));
  }

  private static boolean young(Kernel kernel, Mm mm) {
    Machine machine = kernel.machine();
    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), USER_VA);
    return (machine.format().flags(leaf, machine.format().levels() - 1) & PteFlags.ACCESSED) != 0;
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void referencedPage_isKeptAndMadeOld_thenReclaimedWhenIdle(String isa) {
    Kernel kernel = boot(isa, "skipVma");
    Mm mm = processMappingAFile(kernel, ReadAdvice.NORMAL);
    Writeback writeback = new Writeback(kernel);
    readOnCore1(kernel);
    Map<String, Long> before = kernel.machine().stats().instructionCounts();

    assertThat(writeback.reclaim(0, 4, true)).as("referenced: kept").isZero();

    assertThat(young(kernel, mm)).isFalse();
    assertThat(kernel.counters())
        .containsEntry("reclaimReferencedKept", 1L)
        .containsEntry("reclaimYoungCleared", 1L)
        .doesNotContainKey("reclaimActivated")
        .doesNotContainKey("reclaimUnmappedPtes");
    Map<String, Long> issued = new TreeMap<>(kernel.machine().stats().instructionCounts());
    before.forEach((name, count) -> issued.merge(name, -count, Long::sum));
    issued.values().removeIf(count -> count == 0);
    if (isa.equals("arm64")) {
      assertThat(kernel.counters()).containsEntry("arm64ClearFlushYoungTlbis", 1L);
      // DSB ISHST; TLBI VALE1IS, and no DSB ISH: the TLBI is not waited for
      assertThat(issued).isEqualTo(Map.of("DSB ISHST", 1L, "TLBI VALE1IS", 1L));
    } else {
      assertThat(kernel.counters()).doesNotContainKey("arm64ClearFlushYoungTlbis");
      assertThat(issued).as("x86 clears A without a flush").isEmpty();
    }

    assertThat(writeback.reclaim(0, 4, true)).as("not referenced since: reclaimed").isEqualTo(1);
    assertThat(kernel.counters()).containsEntry("reclaimReferencedKept", 1L);
    assertThat(kernel.pageCache().size()).isZero();
    assertThat(kernel.machine().oracle().total()).isZero();
  }

  /**
   * The flush is what makes a second reference visible: on arm64 the TLBI removed core 1's entry,
   * so its next load walks, the walk sets AF, and the page, referenced twice, is activated. x86
   * does not flush: core 1's next load hits the cached entry, A stays clear, and reclaim takes the
   * page in use for an idle one (what Linux accepts on x86).
   */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void pageUsedAgain_isActivatedOnArm64_butLooksIdleOnX86WhereTheEntryStayedCached(String isa) {
    Kernel kernel = boot(isa, "skipVma");
    Mm mm = processMappingAFile(kernel, ReadAdvice.NORMAL);
    Writeback writeback = new Writeback(kernel);
    assertThat(readOnCore1ThenReclaim(kernel, writeback)).isZero();

    int dropped = readOnCore1ThenReclaim(kernel, writeback);

    if (isa.equals("arm64")) {
      assertThat(dropped).isZero();
      assertThat(kernel.counters())
          .containsEntry("reclaimActivated", 1L)
          .containsEntry("reclaimYoungCleared", 2L)
          .containsEntry("arm64ClearFlushYoungTlbis", 2L);
    } else {
      assertThat(dropped).isEqualTo(1);
      assertThat(kernel.counters())
          .containsEntry("reclaimYoungCleared", 1L)
          .containsEntry("reclaimUnmappedPtes", 1L)
          .doesNotContainKey("reclaimActivated");
    }
    assertThat(kernel.machine().oracle().total()).isZero();
  }

  /** Two mappings referencing the page in one pass activate it at once. */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void referencedThroughTwoMappings_isActivatedAtOnce(String isa) {
    Kernel kernel = boot(isa, "skipVma");
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    Mm first = kernel.createMm();
    Mm second = kernel.createMm();
    kernel.mmap(0, first, new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "a", file, 0));
    kernel.mmap(0, second, new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "b", file, 0));
    kernel.switchTo(0, first);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    kernel.switchTo(0, second);
    machine.access(0, USER_VA, 8, AccessKind.READ);

    assertThat(new Writeback(kernel).reclaim(0, 4, true)).isZero();

    assertThat(kernel.counters())
        .containsEntry("reclaimYoungCleared", 2L)
        .containsEntry("reclaimReferencedKept", 1L)
        .containsEntry("reclaimActivated", 1L);
  }

  /** A file page referenced through an executable mapping is activated at its first reference. */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void referencedThroughAnExecutableMapping_isActivatedAtOnce(String isa) {
    Kernel kernel = boot(isa, "skipVma");
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.EXEC, "text", file, 0));
    kernel.switchTo(0, mm);
    machine.access(0, USER_VA, 8, AccessKind.FETCH);

    assertThat(new Writeback(kernel).reclaim(0, 4, true)).isZero();

    assertThat(kernel.counters())
        .containsEntry("reclaimYoungCleared", 1L)
        .containsEntry("reclaimReferencedKept", 1L)
        .containsEntry("reclaimActivated", 1L);
  }

  /**
   * {@code vma_has_recency} (6.3+): a hinted mapping is skipped whole, so its accessed flag stays
   * set, nothing is flushed, and the page is reclaimed at the first pass.
   */
  @ParameterizedTest
  @CsvSource({"arm64, RANDOM", "arm64, SEQUENTIAL", "x86, RANDOM", "x86, SEQUENTIAL"})
  void skipVma_hintedMappingIsNotLookedAt_andThePageIsReclaimed(String isa, ReadAdvice advice) {
    Kernel kernel = boot(isa, "skipVma");
    Mm mm = processMappingAFile(kernel, advice);
    Writeback writeback = new Writeback(kernel);

    assertThat(readOnCore1ThenReclaim(kernel, writeback)).isEqualTo(1);

    assertThat(kernel.counters())
        .containsEntry("reclaimRecencySkipped", 1L)
        .containsEntry("reclaimUnmappedPtes", 1L)
        .doesNotContainKey("reclaimYoungCleared")
        .doesNotContainKey("arm64ClearFlushYoungTlbis")
        .doesNotContainKey("reclaimReferencedKept");
    assertThat(kernel.machine().oracle().total()).isZero();
  }

  /** A reference through an unhinted mapping of the page still keeps it. */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void skipVma_referenceThroughAnotherUnhintedMapping_keepsThePage(String isa) {
    Kernel kernel = boot(isa, "skipVma");
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("f", 4 << 12);
    Mm hinted = kernel.createMm();
    Mm plain = kernel.createMm();
    Vma vma = new Vma(USER_VA, USER_VA + (4 << 12), PteFlags.WRITE, "file", file, 0);
    kernel.mmap(0, hinted, vma.withReadAdvice(ReadAdvice.RANDOM));
    kernel.mmap(0, plain, vma);
    kernel.switchTo(0, hinted);
    machine.access(0, USER_VA, 8, AccessKind.READ);
    kernel.switchTo(0, plain);
    machine.access(0, USER_VA, 8, AccessKind.READ);

    assertThat(new Writeback(kernel).reclaim(0, 4, true)).isZero();

    assertThat(young(kernel, hinted)).as("skipped: still young").isTrue();
    assertThat(kernel.counters())
        .containsEntry("reclaimRecencySkipped", 1L)
        .containsEntry("reclaimYoungCleared", 1L)
        .containsEntry("reclaimReferencedKept", 1L);
  }

  /**
   * Before 6.3 ({@code page_referenced_one}): every mapping's accessed flag is cleared (arm64 with
   * its TLBI); a reference through an {@code MADV_RANDOM} mapping keeps the page, one through an
   * {@code MADV_SEQUENTIAL} mapping does not.
   */
  @ParameterizedTest
  @CsvSource({"arm64, RANDOM, 0", "arm64, SEQUENTIAL, 1", "x86, RANDOM, 0", "x86, SEQUENTIAL, 1"})
  void legacy_clearsEveryMapping_andIgnoresOnlySequentialReferences(
      String isa, ReadAdvice advice, int expectedDropped) {
    Kernel kernel = boot(isa, "legacy");
    Mm mm = processMappingAFile(kernel, advice);
    Writeback writeback = new Writeback(kernel);

    assertThat(readOnCore1ThenReclaim(kernel, writeback)).isEqualTo(expectedDropped);

    assertThat(kernel.counters())
        .containsEntry("reclaimYoungCleared", 1L)
        .doesNotContainKey("reclaimRecencySkipped");
    if (isa.equals("arm64")) {
      assertThat(kernel.counters()).containsEntry("arm64ClearFlushYoungTlbis", 1L);
    }
    if (advice == ReadAdvice.SEQUENTIAL) {
      assertThat(kernel.counters())
          .containsEntry("reclaimSeqReadIgnored", 1L)
          .doesNotContainKey("reclaimReferencedKept");
    } else {
      assertThat(kernel.counters())
          .containsEntry("reclaimReferencedKept", 1L)
          .doesNotContainKey("reclaimSeqReadIgnored");
    }
    assertThat(kernel.machine().oracle().total()).isZero();
  }

  /** Without unmapping ({@code may_unmap} clear) mapped pages are passed over unread. */
  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void reclaimOfUnmappedPagesOnly_doesNotReadReferences(String isa) {
    Kernel kernel = boot(isa, "skipVma");
    Mm mm = processMappingAFile(kernel, ReadAdvice.NORMAL);
    kernel.machine().access(0, USER_VA, 8, AccessKind.READ);

    assertThat(new Writeback(kernel).reclaim(0, 4, false)).isZero();

    assertThat(young(kernel, mm)).isTrue();
    assertThat(kernel.counters()).doesNotContainKey("reclaimYoungCleared");
  }
}
