package org.mmuemu.kernel.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * Seeded random mixes of every vmalloc operation from several cores, with the kernel's bookkeeping
 * checked after each one: free, pooled, busy and lazy ranges partition the vmalloc range;
 * vmap_lazy_nr matches the lazy areas; live pages translate to their frames; and the oracle stays
 * silent (other cores touch the areas, so stale entries exist to be flushed).
 */
final class VmallocRandomOpsTest {
  private static final long PAGE = Vmalloc.PAGE_BYTES;

  @ParameterizedTest(name = "{0} nodes={1} walk={2}")
  @CsvSource({"arm64, off, xarray", "x86, off, xarray", "arm64, on, xarray", "x86, on, xarray"})
  void randomOperations_keepTheBookkeepingConsistent(String isa, String nodes, String walk) {
    Kernel kernel =
        KernelBoot.on(isa)
            .cores(3)
            .memoryBytes(512L << 20)
            .variants(Map.of("vmapNodes", nodes, "vmUnmapAliasesWalk", walk))
            .kernelThreads()
            .boot();
    Vmalloc vmalloc = kernel.vmalloc();
    Machine machine = kernel.machine();
    Random random = new Random(isa.hashCode() * 31L + nodes.hashCode());
    List<long[]> live = new ArrayList<>(); // {va, kind, pages}: kind 0 vmalloc, 1 vm_map_ram
    long[] frames = new long[64];
    for (int i = 0; i < frames.length; i++) {
      frames[i] = machine.memory().allocate(FrameKind.KERNEL);
    }
    for (int op = 0; op < 3000; op++) {
      int core = random.nextInt(3);
      machine.actOn(core);
      int choice = random.nextInt(100);
      if (choice < 30) {
        long va =
            random.nextInt(8) == 0
                ? vmalloc.vmallocNode(
                    core, (1 + random.nextInt(8)) * PAGE, PAGE << random.nextInt(6), true)
                : vmalloc.vmalloc(core, (1 + random.nextInt(40)) * PAGE);
        assertThat(va).isNotZero();
        live.add(new long[] {va, 0, 0});
      } else if (choice < 45) {
        int pages = 1 + random.nextInt(random.nextInt(4) == 0 ? 64 : 4);
        long va = vmalloc.vmMapRam(core, frames, pages);
        assertThat(va).isNotZero();
        live.add(new long[] {va, 1, pages});
      } else if (choice < 80 && !live.isEmpty()) {
        long[] area = live.remove(random.nextInt(live.size()));
        if (area[1] == 0) {
          vmalloc.vfree(core, area[0]);
        } else {
          vmalloc.vmUnmapRam(core, area[0], (int) area[2]);
        }
      } else if (choice < 92 && !live.isEmpty()) {
        long[] area = live.get(random.nextInt(live.size()));
        assertThat(machine.access(core, area[0], 8, AccessKind.READ)).isTrue();
      } else if (choice < 97) {
        vmalloc.vmUnmapAliases(core);
      } else {
        vmalloc.purgeVmapAreaLazy(core);
      }
      vmalloc.checkConsistency();
    }
    assertThat(machine.oracle().total()).as(machine.oracle().recorded().toString()).isZero();
    assertThat(machine.unresolvedFaults()).isZero();
    assertThat((Long) vmalloc.counters().get("vmUnmapAliasesCalls")).isPositive();
  }
}
