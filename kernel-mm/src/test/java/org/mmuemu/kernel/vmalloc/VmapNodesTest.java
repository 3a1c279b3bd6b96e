package org.mmuemu.kernel.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * The {@code vmapNodes} variant (Linux 6.9+ per-node pools): purged small ranges refill the freeing
 * node's pool and the next allocation of that size takes them without the free tree; each purge
 * decays a quarter of every pool; the reclaim path empties them. With the variant off every purged
 * range goes back to the free tree.
 */
final class VmapNodesTest {
  private static final long PAGE = Vmalloc.PAGE_BYTES;

  private static Vmalloc vmalloc(String nodes) {
    Kernel kernel =
        KernelBoot.on("arm64")
            .cores(2)
            .variants(Map.of("vmapNodes", nodes))
            .memoryBytes(256L << 20)
            .kernelThreads()
            .boot();
    return kernel.vmalloc();
  }

  @Test
  void purgedRange_refillsThePool_andTheNextAllocationHitsIt() {
    Vmalloc on = vmalloc("on");
    long first = on.vmalloc(0, PAGE);
    on.vfree(0, first);
    on.purgeVmapAreaLazy(0);
    assertThat(on.counters()).containsEntry("vmapPoolAreas", 1L);
    long freeVisits = on.freeTree().nodesVisited();
    assertThat(on.vmalloc(0, PAGE)).isEqualTo(first);
    assertThat(on.counters()).containsEntry("vmapPoolHits", 1L).containsEntry("vmapPoolAreas", 0L);
    assertThat(on.freeTree().nodesVisited())
        .as("the free tree was not searched")
        .isEqualTo(freeVisits);

    Vmalloc off = vmalloc("off");
    long offFirst = off.vmalloc(0, PAGE);
    off.vfree(0, offFirst);
    off.purgeVmapAreaLazy(0);
    long offVisits = off.freeTree().nodesVisited();
    assertThat(off.vmalloc(0, PAGE)).isEqualTo(offFirst);
    assertThat(off.counters()).containsEntry("vmapPoolHits", 0L).containsEntry("vmapPoolAreas", 0L);
    assertThat(off.freeTree().nodesVisited()).isGreaterThan(offVisits);
  }

  @Test
  void eachPurge_decaysAQuarterOfEveryPool() {
    Vmalloc on = vmalloc("on");
    long[] areas = new long[8];
    for (int i = 0; i < areas.length; i++) {
      areas[i] = on.vmalloc(1, 3 * PAGE);
    }
    for (long va : areas) {
      on.vfree(1, va);
    }
    on.purgeVmapAreaLazy(1);
    assertThat(on.counters()).containsEntry("vmapPoolAreas", 8L);
    on.purgeVmapAreaLazy(1);
    assertThat(on.counters()).containsEntry("vmapPoolAreas", 6L);
  }

  @Test
  void poolRange_misaligned_isRotatedAndTheFreeTreeServes() {
    Vmalloc on = vmalloc("on");
    on.vmalloc(0, PAGE); // keeps the next range off the 1 MiB boundary
    long va = on.vmallocNode(0, PAGE, PAGE, false);
    assertThat(va & ((1L << 20) - 1)).isNotZero();
    on.vfree(0, va);
    on.purgeVmapAreaLazy(0);
    long aligned =
        on.vmallocNode(0, PAGE, 1L << 20, false); // 2 pages with the guard: same pool size
    assertThat(aligned & ((1L << 20) - 1)).isZero();
    assertThat(on.counters()).containsEntry("vmapPoolHits", 0L).containsEntry("vmapPoolAreas", 1L);
  }

  @Test
  void reclaimPath_emptiesThePools() {
    Vmalloc on = vmalloc("on");
    long va = on.vmalloc(0, PAGE);
    on.vfree(0, va);
    on.purgeVmapAreaLazy(0);
    long vstart = on.vmallocStartVa() + (1L << 30);
    on.allocVmapArea(0, 2 * PAGE, PAGE, vstart, vstart + 2 * PAGE, 0);
    assertThat(on.allocVmapArea(0, 2 * PAGE, PAGE, vstart, vstart + 2 * PAGE, 0)).isNull();
    assertThat(on.counters()).containsEntry("vmapPoolAreas", 0L);
  }
}
