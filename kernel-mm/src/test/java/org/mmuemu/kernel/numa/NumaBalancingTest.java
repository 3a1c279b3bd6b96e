package org.mmuemu.kernel.numa;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * task_numa_work's scan window and change_prot_numa on one core: a pass makes PROT_NONE at most its
 * scan size (rounded up to a 2 MiB boundary) and continues where the previous one stopped, the mm's
 * pass count rises when the end of the address space is reached, the PTEs the hardware sees become
 * invalid, and the next access takes a hinting fault that restores the same page. The PID filter
 * leaves the first two passes alone.
 */
final class NumaBalancingTest {
  private static final long VMA_VA = 0x20_0000_0000L;
  private static final long VMA_BYTES = 5L << 19; // 2.5 MiB: one 2 MiB chunk and a half
  private static final long PERIOD = 10_000;

  private static Kernel boot(String isa, String filter) {
    return KernelBoot.on(isa)
        .cores(1)
        .tunable("numaBalancingScanSizeMb", 1)
        .variants(Map.of("numaScanFilter", filter))
        .boot();
  }

  /** Maps the VMA, faults every page in and starts task 1000 with balancing on. */
  private static Mm populated(Kernel kernel) {
    Machine machine = kernel.machine();
    Mm mm = kernel.createMm();
    kernel.switchTo(0, mm);
    kernel.mmap(0, mm, new Vma(VMA_VA, VMA_VA + VMA_BYTES, PteFlags.WRITE, "data"));
    for (long va = VMA_VA; va < VMA_VA + VMA_BYTES; va += 4096) {
      machine.access(0, va, 8, AccessKind.WRITE);
    }
    kernel.numaBalancing().enable(PERIOD, PERIOD);
    kernel.numaBalancing().startTask(0, mm, 1000);
    return mm;
  }

  // runs the task until its next scan has happened
  private static void runOnePeriod(Kernel kernel) {
    long scans = kernel.machine().stats().kernelCounters().getOrDefault("numaScans", 0L);
    while (kernel.machine().stats().kernelCounters().getOrDefault("numaScans", 0L) == scans) {
      kernel.machine().charge(0, 1_000);
      kernel.numaBalancing().tick(0);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void aPassStopsAfterItsScanSizeRoundedTo2MiB_andTheNextOneContinuesThere(String isa) {
    Kernel kernel = boot(isa, "accessedPids");
    Mm mm = populated(kernel);
    NumaBalancing numa = kernel.numaBalancing();

    runOnePeriod(kernel);
    // 1 MiB of budget, rounded up to the next 2 MiB boundary: the first 512 PTEs
    assertThat(kernel.machine().stats().kernelCounters()).containsEntry("numaPteUpdates", 512L);
    assertThat(kernel.machine().stats().kernelCounters()).doesNotContainKey("numaScanSeq");
    assertThat(numa.isHintingFault(mm, VMA_VA + (511L << 12))).isTrue();
    assertThat(numa.isHintingFault(mm, VMA_VA + (512L << 12))).isFalse();
    assertThat(kernel.tables().leafDescriptor(mm.rootPfn(), VMA_VA)).isZero(); // invalid

    runOnePeriod(kernel);
    // the rest of the VMA, then the end of the address space: one full pass
    assertThat(kernel.machine().stats().kernelCounters())
        .containsEntry("numaPteUpdates", 640L)
        .containsEntry("numaScanSeq", 1L)
        .containsEntry("numaScanFlushes", 2L);
    assertThat(numa.isHintingFault(mm, VMA_VA + VMA_BYTES - 4096)).isTrue();
    assertThat(kernel.machine().oracle().total()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void aHintingFault_restoresTheSamePage_withoutAFlush(String isa) {
    Kernel kernel = boot(isa, "accessedPids");
    Mm mm = populated(kernel);
    Machine machine = kernel.machine();
    long paBefore =
        machine.format().outputPa(kernel.tables().leafDescriptor(mm.rootPfn(), VMA_VA), 3);
    runOnePeriod(kernel);
    long flushes = machine.stats().kernelCounters().getOrDefault("mmuGatherFlushes", 0L);

    assertThat(machine.access(0, VMA_VA, 8, AccessKind.READ)).isTrue();

    long leaf = kernel.tables().leafDescriptor(mm.rootPfn(), VMA_VA);
    assertThat(machine.format().outputPa(leaf, 3)).isEqualTo(paBefore);
    assertThat(machine.format().flags(leaf, 3) & PteFlags.WRITE).isNotZero();
    assertThat(kernel.machine().stats().kernelCounters())
        .containsEntry("numaHintFaults", 1L)
        .containsEntry("numaHintFaultsLocal", 1L)
        .doesNotContainKey("numaPagesMigrated");
    assertThat(machine.stats().kernelCounters().getOrDefault("mmuGatherFlushes", 0L))
        .isEqualTo(flushes);
  }

  /**
   * x86's {@code pte_needs_flush} flushes a PTE that PROT_NONE takes the Present bit from whatever
   * its Accessed bit says: reclaim clears that bit without a flush ({@code
   * ptep_clear_flush_young}), so a TLB may still hold the translation. Here every PTE of the VMA
   * reads "not accessed" while core 0's TLB holds some of them; the scan must still flush, or an
   * access would go on through the cached entry without its hinting fault.
   */
  @Test
  void x86_flushesProtNonePtesWhoseAccessedBitReclaimCleared() {
    Kernel kernel = boot("x86", "accessedPids");
    Mm mm = populated(kernel);
    Machine machine = kernel.machine();
    int leafLevel = machine.format().levels() - 1;
    assertThat(machine.access(0, VMA_VA, 8, AccessKind.READ)).isTrue(); // cached again
    for (long va = VMA_VA; va < VMA_VA + VMA_BYTES; va += 4096) {
      int flags =
          machine.format().flags(kernel.tables().leafDescriptor(mm.rootPfn(), va), leafLevel);
      kernel.tables().updateFlags(mm.rootPfn(), va, flags & ~PteFlags.ACCESSED, 0); // no flush
    }
    assertThat(machine.access(0, VMA_VA, 8, AccessKind.READ)).isTrue(); // a TLB hit: A stays clear
    assertThat(
            machine.format().flags(kernel.tables().leafDescriptor(mm.rootPfn(), VMA_VA), leafLevel)
                & PteFlags.ACCESSED)
        .isZero();

    runOnePeriod(kernel);

    assertThat(machine.stats().kernelCounters()).containsEntry("numaScanFlushes", 1L);
    assertThat(machine.access(0, VMA_VA, 8, AccessKind.READ)).isTrue();
    assertThat(machine.stats().kernelCounters()).containsEntry("numaHintFaults", 1L);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void theFilterPassesEveryVmaDuringTheFirstTwoPasses_thenOnlyAccessedOnes() {
    NumaBalancing filtered = boot("arm64", "accessedPids").numaBalancing();
    NumaBalancing unfiltered = boot("arm64", "all").numaBalancing();
    VmaNumabState untouched = new VmaNumabState(VMA_VA + VMA_BYTES, 0, PERIOD, 4 * PERIOD);
    VmaNumabState touched = new VmaNumabState(VMA_VA + VMA_BYTES, 0, PERIOD, 4 * PERIOD);
    touched.recordAccess(1000);

    assertThat(filtered.vmaIsAccessed(untouched, 0, 1000)).isTrue();
    assertThat(filtered.vmaIsAccessed(untouched, 1, 1000)).isTrue();
    assertThat(filtered.vmaIsAccessed(untouched, 2, 1000)).isFalse();
    assertThat(filtered.vmaIsAccessed(touched, 2, 1000)).isTrue();
    assertThat(filtered.vmaIsAccessed(touched, 2, 1001)).isFalse();
    assertThat(unfiltered.vmaIsAccessed(untouched, 2, 1000)).isTrue();
  }

  @Test
  void aChunkEndsAtThe2MiBBoundaryAfterItsBudget_cutAtTheVmaEnd() {
    long mib2 = 1L << 21;
    assertThat(NumaBalancing.chunkEnd(VMA_VA, 256, VMA_VA + 8 * mib2)).isEqualTo(VMA_VA + mib2);
    assertThat(NumaBalancing.chunkEnd(VMA_VA + 4096, 512, VMA_VA + 8 * mib2))
        .isEqualTo(VMA_VA + 2 * mib2);
    assertThat(NumaBalancing.chunkEnd(VMA_VA, 65_536, VMA_VA + 3 * mib2))
        .isEqualTo(VMA_VA + 3 * mib2);
  }
}
