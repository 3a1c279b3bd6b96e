package org.mmuemu.kernel.gather;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.testkit.UserProcesses.USER_VA;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.testkit.MidZapRace;
import org.mmuemu.kernel.testkit.UserProcesses;

/**
 * DOMAIN.md §3.7 replayed on both ISAs: CPU2 caches X; CPU0's MADV_DONTNEED has cleared X's PTE and
 * not yet flushed; CPU1's MADV_DONTNEED of X finds the PTE already none. Without the nested check
 * (2017) CPU1's gather flushes nothing and madvise returns while CPU2 still reads the old page
 * through its TLB ({@code UNFLUSHED_ALIAS}); with it (99baac21e458, the default) CPU1 sees a second
 * pending gather and flushes the whole mm, so CPU2's next load faults.
 */
final class NestedGatherFlushTest {

  private static Kernel replay(String isa, String variant) {
    Kernel kernel =
        KernelBoot.on(isa).cores(3).variants(Map.of("madviseFlushBatching", variant)).boot();
    Machine machine = kernel.machine();
    Mm mm = UserProcesses.anonymous(kernel, 16);
    for (int core = 0; core < 3; core++) {
      kernel.switchTo(core, mm);
    }
    machine.actOn(2);
    machine.access(2, USER_VA, 8, AccessKind.WRITE);

    machine.actOn(0);
    MmuGather first = kernel.gather(0, mm, false);
    MidZapRace race =
        MidZapRace.install(
            kernel,
            0,
            () -> {
              machine.actOn(1);
              machine.clocks().waitUntil(1, machine.now(0) + 1); // the madvise comes after the zap
              kernel.madviseDontneed(1, mm, USER_VA, USER_VA + 4096);
              machine.actOn(2);
              machine.clocks().waitUntil(2, machine.now(1));
              machine.access(2, USER_VA, 8, AccessKind.READ);
              machine.clocks().waitUntil(0, machine.now(2)); // the first zap goes on after
            });
    kernel.unmapVmaRange(first, mm.vmas().get(0), USER_VA, USER_VA + 4096);
    first.finish();
    assertThat(race.ran()).isTrue();
    return kernel;
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void withoutTheNestedCheck_madviseReturnsWhileAnotherCoreStillCachesThePage(String isa) {
    Kernel kernel = replay(isa, "noNestedCheck");

    assertThat(kernel.machine().oracle().count(ViolationKind.UNFLUSHED_ALIAS)).isEqualTo(1);
    assertThat(kernel.machine().oracle().recorded().get(0).core()).isEqualTo(2);
    assertThat(kernel.counters())
        .containsEntry("pageFaults", 1L)
        .doesNotContainKey("mmuGatherNestedFlushes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void withTheNestedCheck_theSecondGatherFlushesTheWholeMm_andTheLoadFaults(String isa) {
    Kernel kernel = replay(isa, "flushNested");

    assertThat(kernel.machine().oracle().total()).isZero();
    assertThat(kernel.counters())
        .containsEntry("pageFaults", 2L)
        .containsEntry("mmuGatherNestedFlushes", 1L);
    assertThat(kernel.machine().stats().latencies())
        .containsKey("flush_tlb_mm")
        .containsKey("madvise");
  }
}
