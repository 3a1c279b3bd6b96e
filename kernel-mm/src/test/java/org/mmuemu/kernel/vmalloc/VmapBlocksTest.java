package org.mmuemu.kernel.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Per-CPU vmap blocks and {@code vm_unmap_aliases}, including the seed bug of DOMAIN §2.1: with the
 * pre-6.5 {@code free-list} walk a fully used block's dirty range is never flushed, which leaves an
 * alias the {@code xarray} walk removes.
 */
final class VmapBlocksTest {
  private static final long PAGE = Vmalloc.PAGE_BYTES;

  private static long[] frames(Kernel kernel, int count) {
    long[] pfns = new long[count];
    for (int i = 0; i < count; i++) {
      pfns[i] = kernel.machine().memory().allocate(FrameKind.KERNEL);
    }
    return pfns;
  }

  @Test
  void vbAlloc_bumpsThroughOneBlock_andRoundsToPowersOfTwo() {
    Kernel kernel = KernelBoot.on("arm64").cores(2).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long[] pfns = frames(kernel, 3);
    long a = vmalloc.vmMapRam(0, pfns, 1);
    long b = vmalloc.vmMapRam(0, pfns, 3);
    long c = vmalloc.vmMapRam(0, pfns, 1);
    assertThat(a & (VmapBlocks.VMAP_BLOCK_BYTES - 1)).isZero();
    assertThat(b).isEqualTo(a + PAGE);
    assertThat(c).as("3 pages take a 4-page slot").isEqualTo(a + 5 * PAGE);
    VmapBlock block = vmalloc.blocks().blockOf(a);
    assertThat(block.free()).isEqualTo(VmapBlocks.VMAP_BBMAP_BITS - 6);
    assertThat(vmalloc.kernelTranslate(b + 2 * PAGE)).isEqualTo(pfns[2] << 12);
    vmalloc.vmUnmapRam(0, b, 3);
    assertThat(block.dirty()).isEqualTo(4);
    assertThat(block.dirtyMin()).isEqualTo(1);
    assertThat(block.dirtyMax()).isEqualTo(5);
    assertThat(vmalloc.kernelTranslate(b)).isEqualTo(-1);
  }

  @Test
  void fullyDirtyBlock_isFreedAndItsRangeGoesLazy() {
    Kernel kernel = KernelBoot.on("x86").cores(1).memoryBytes(256L << 20).kernelThreads().boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long[] pfns = frames(kernel, 64);
    long[] slots = new long[VmapBlocks.VMAP_BBMAP_BITS / 64];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = vmalloc.vmMapRam(0, pfns, 64);
    }
    assertThat(vmalloc.blocks().freeList(0)).as("full block leaves the free list").isEmpty();
    for (long slot : slots) {
      vmalloc.vmUnmapRam(0, slot, 64);
    }
    assertThat(vmalloc.counters())
        .containsEntry("vmapBlocksCreated", 1L)
        .containsEntry("vmapBlocksFreed", 1L)
        .containsEntry("vmapBlocksLive", 0L);
    assertThat(vmalloc.vmapLazyPages()).isEqualTo(VmapBlocks.VMAP_BBMAP_BITS);
  }

  /** DOMAIN §2.1 replayed: returns the oracle's UNFLUSHED_ALIAS count after vm_unmap_aliases. */
  private static long fullyUsedBlockScenario(String isa, String walk, boolean[] aliasGone) {
    Kernel kernel =
        KernelBoot.on(isa)
            .cores(2)
            .variants(Map.of("vmUnmapAliasesWalk", walk))
            .memoryBytes(256L << 20)
            .kernelThreads()
            .boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Machine machine = kernel.machine();
    long[] p2 = frames(kernel, 1);
    long[] p1 = frames(kernel, 1);
    long b = vmalloc.vmMapRam(0, p2, 1); // stays mapped: the block keeps a live allocation
    for (int i = 0; i < VmapBlocks.VMAP_BBMAP_BITS - 2; i++) {
      vmalloc.vmMapRam(0, p2, 1);
    }
    long a = vmalloc.vmMapRam(0, p1, 1); // free 1 -> 0: off the free list
    assertThat(vmalloc.blocks().blockOf(a).isOnFreeList()).isFalse();
    machine.actOn(1);
    machine.access(1, a, 8, AccessKind.READ);
    machine.access(1, b, 8, AccessKind.READ);
    machine.actOn(0);
    vmalloc.vmUnmapRam(0, a, 1);
    vmalloc.vmUnmapAliases(0);
    aliasGone[0] = machine.core(1).tlb("l2").probe(a, machine.core(1).context().asid()) < 0;
    aliasGone[1] = machine.core(1).tlb("l2").probe(b, machine.core(1).context().asid()) < 0;
    return machine.oracle().count(ViolationKind.UNFLUSHED_ALIAS);
  }

  @ParameterizedTest
  @ValueSource(strings = {"arm64", "x86"})
  void freeListWalk_leavesTheAliasOfAFullyUsedBlock_theXarrayWalkFlushesIt(String isa) {
    boolean[] gone = new boolean[2];
    assertThat(fullyUsedBlockScenario(isa, "free-list", gone)).isEqualTo(1);
    assertThat(gone[0]).as("free-list: the alias survives").isFalse();
    assertThat(fullyUsedBlockScenario(isa, "xarray", gone)).isZero();
    assertThat(gone[0]).as("xarray: the alias is flushed").isTrue();
  }

  private static Map<String, Object> twoCallsOnADirtyBlock(String walk) {
    Kernel kernel =
        KernelBoot.on("arm64")
            .cores(2)
            .variants(Map.of("vmUnmapAliasesWalk", walk))
            .memoryBytes(256L << 20)
            .kernelThreads()
            .boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long[] pfns = frames(kernel, 1);
    long a = vmalloc.vmMapRam(0, pfns, 1);
    vmalloc.vmMapRam(0, pfns, 1);
    vmalloc.vmUnmapRam(0, a, 1);
    vmalloc.vmUnmapAliases(0);
    vmalloc.vmUnmapAliases(0);
    return vmalloc.counters();
  }

  @Test
  void backToBackVmUnmapAliases_xarrayFlushesOnce_freeListFlushesEveryTime() {
    assertThat(twoCallsOnADirtyBlock("xarray")).containsEntry("vmUnmapAliasesFlushes", 1L);
    assertThat(twoCallsOnADirtyBlock("free-list")).containsEntry("vmUnmapAliasesFlushes", 2L);
  }

  @Test
  void fragmentedBlock_xarrayKeepsAMostlyFreeBlock_freeListPurgesIt() {
    for (String walk : new String[] {"xarray", "free-list"}) {
      Kernel kernel =
          KernelBoot.on("arm64")
              .cores(1)
              .variants(Map.of("vmUnmapAliasesWalk", walk))
              .memoryBytes(256L << 20)
              .kernelThreads()
              .boot();
      Vmalloc vmalloc = kernel.vmalloc();
      long[] pfns = frames(kernel, 1);
      long a = vmalloc.vmMapRam(0, pfns, 1);
      vmalloc.vmUnmapRam(0, a, 1); // fragmented: no live slot, 1023 pages never used
      vmalloc.vmUnmapAliases(0);
      assertThat(vmalloc.counters())
          .as(walk)
          .containsEntry("vmapBlocksPurged", walk.equals("xarray") ? 0L : 1L);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ordered", "racy"})
  void purgeInThePublishWindow_racyOrderReadsTheReleasedArea(String order) {
    Kernel kernel =
        KernelBoot.on("x86")
            .cores(2)
            .variants(Map.of("lazyFreePublishOrder", order))
            .memoryBytes(256L << 20)
            .kernelThreads()
            .boot();
    Vmalloc vmalloc = kernel.vmalloc();
    long va = vmalloc.vmalloc(0, PAGE);
    boolean[] once = {false};
    long[] lazyAfterPurge = new long[1];
    vmalloc.setPreemptionHook(
        (point, core) -> {
          if (point.equals(PreemptionHook.LAZY_PUBLISHED) && !once[0]) {
            once[0] = true;
            kernel.machine().actOn(1);
            vmalloc.purgeVmapAreaLazy(1);
            lazyAfterPurge[0] = vmalloc.vmapLazyPages();
            kernel.machine().actOn(0);
          }
        });
    vmalloc.vfree(0, va);
    long uaf = kernel.machine().oracle().count(ViolationKind.KERNEL_UAF);
    if (order.equals("racy")) {
      assertThat(uaf).isEqualTo(1);
      assertThat(lazyAfterPurge[0]).as("subtracted before it was added").isEqualTo(-2);
    } else {
      assertThat(uaf).isZero();
      assertThat(lazyAfterPurge[0]).isZero();
    }
    assertThat(vmalloc.vmapLazyPages()).isZero();
  }
}
