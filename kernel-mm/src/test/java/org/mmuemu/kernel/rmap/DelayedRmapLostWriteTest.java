package org.mmuemu.kernel.rmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.MidZapRace;
import org.mmuemu.kernel.vmalloc.PreemptionHook;
import org.mmuemu.kernel.writeback.Writeback;

/**
 * DOMAIN.md §3.5 replayed on both ISAs: CPU1 holds a writable, dirty TLB entry for page X of a
 * shared file mapping; CPU0 zaps X. Before 6.2 ({@code immediate}) the zap removes X's rmap as it
 * clears the PTE and flushes only at the end of the PTE table, still under the PTE lock: in that
 * window ({@code zap_pte_range:dirty_cleared}) CPU2 writes the page back, and folio_mkclean finds
 * no mapping, so it neither takes the lock nor flushes; CPU1 stores to X again through its entry;
 * reclaim later drops the clean page and the store is lost ({@code LOST_WRITE}). With delayed rmap
 * removal (the default) the mapping is still in the rmap in that window, so folio_mkclean would
 * take the PTE lock and wait for the zap's flush; writing back after the zap (at {@code
 * zap_pte_range:unlocked}) CPU1's store faults, the page is dirtied again and nothing is lost.
 */
final class DelayedRmapLostWriteTest {

  private record Outcome(Kernel kernel, CachedPage page) {}

  private static Outcome replay(String isa, String rmapRemoval) {
    Kernel kernel = KernelBoot.on(isa).cores(3).variants(Map.of("rmapRemoval", rmapRemoval)).boot();
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("data", 16 << 12);
    Mm mm = kernel.createMm();
    Vma vma = new Vma(USER_VA, USER_VA + (16 << 12), PteFlags.WRITE, "file", file, 0);
    kernel.mmap(0, mm, vma);
    for (int core = 0; core < 3; core++) {
      kernel.switchTo(core, mm);
    }
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE); // TLB1 += (X -> P, writable, dirty)
    CachedPage page = kernel.pageCache().lookup(file, 0);

    machine.actOn(0);
    MmuGather tlb = kernel.gather(0, mm, false);
    Writeback writeback = new Writeback(kernel);
    boolean immediate = rmapRemoval.equals("immediate");
    MidZapRace race =
        MidZapRace.install(
            kernel,
            0,
            immediate ? PreemptionHook.ZAP_PTE_DIRTY_CLEARED : Kernel.ZAP_PTE_UNLOCKED,
            () -> {
              // each core acts after the previous one in simulated time, as the race has it
              machine.actOn(2);
              machine.clocks().waitUntil(2, machine.now(0));
              writeback.writebackAll(2);
              machine.actOn(1);
              machine.clocks().waitUntil(1, machine.now(2));
              machine.access(1, USER_VA, 8, AccessKind.WRITE);
              machine.clocks().waitUntil(0, machine.now(1)); // the zap goes on after the store
            });
    kernel.unmapVmaRange(tlb, vma, USER_VA, USER_VA + 4096);
    tlb.finish();
    assertThat(race.ran()).isTrue();
    machine.actOn(2);
    machine.clocks().waitUntil(2, machine.now(0));
    writeback.reclaim(2, 16, false);
    return new Outcome(kernel, page);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void immediateRmapRemoval_letsAStaleWritableEntryWriteACleanPage_andTheWriteIsLost(String isa) {
    Outcome outcome = replay(isa, "immediate");
    Kernel kernel = outcome.kernel();

    assertThat(kernel.machine().oracle().count(ViolationKind.LOST_WRITE)).isEqualTo(1);
    assertThat(kernel.machine().oracle().recorded())
        .singleElement()
        .satisfies(violation -> assertThat(violation.detail()).contains("never reached storage"));
    assertThat(kernel.counters())
        .containsEntry("fileFaults", 1L)
        .containsEntry("pagesReclaimed", 1L)
        .doesNotContainKey("mkcleanPtes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void delayedRmapRemoval_flushesBeforeTheLockIsDropped_andTheStoreFaultsAndRedirties(String isa) {
    Outcome outcome = replay(isa, "delayed");
    Kernel kernel = outcome.kernel();

    assertThat(kernel.machine().oracle().total())
        .as("%s", kernel.machine().oracle().recorded())
        .isZero();
    assertThat(kernel.counters())
        .containsEntry("fileFaults", 2L)
        .containsEntry("pagesReclaimed", 0L);
    assertThat(outcome.page().dirty()).isTrue();
    assertThat(kernel.rmap().mapcount(outcome.page().pfn())).isEqualTo(1);
    assertThat(kernel.machine().memory().contentVersion(outcome.page().pfn()))
        .isGreaterThan(outcome.page().storedVersion());
  }

  /** The same race driven through munmap itself: the other cores act at its preemption point. */
  private static Kernel replayThroughMunmap(String isa, String rmapRemoval) {
    Kernel kernel = KernelBoot.on(isa).cores(3).variants(Map.of("rmapRemoval", rmapRemoval)).boot();
    Machine machine = kernel.machine();
    MappedFile file = kernel.pageCache().createFile("data", 16 << 12);
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (16 << 12), PteFlags.WRITE, "file", file, 0));
    for (int core = 0; core < 3; core++) {
      kernel.switchTo(core, mm);
    }
    machine.actOn(1);
    machine.access(1, USER_VA, 8, AccessKind.WRITE);
    Writeback writeback = new Writeback(kernel);
    String racePoint =
        rmapRemoval.equals("immediate")
            ? PreemptionHook.ZAP_PTE_DIRTY_CLEARED
            : PreemptionHook.ZAP_PTE_UNLOCKED;
    kernel.setPreemptionHook(
        (point, core) -> {
          if (point.equals(racePoint)) {
            machine.actOn(2);
            machine.clocks().waitUntil(2, machine.now(core));
            writeback.writebackAll(2);
            machine.actOn(1);
            machine.clocks().waitUntil(1, machine.now(2));
            machine.access(1, USER_VA, 8, AccessKind.WRITE);
            machine.actOn(core);
            machine.clocks().waitUntil(core, machine.now(1));
          }
        });
    machine.actOn(0);
    kernel.munmap(0, mm, USER_VA, USER_VA + 4096);
    machine.actOn(2);
    machine.clocks().waitUntil(2, machine.now(0));
    writeback.reclaim(2, 16, false);
    return kernel;
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void munmapRace_losesTheWriteOnlyWithImmediateRmapRemoval(String isa) {
    assertThat(
            replayThroughMunmap(isa, "immediate")
                .machine()
                .oracle()
                .count(ViolationKind.LOST_WRITE))
        .isEqualTo(1);
    assertThat(replayThroughMunmap(isa, "delayed").machine().oracle().total()).isZero();
  }
}
