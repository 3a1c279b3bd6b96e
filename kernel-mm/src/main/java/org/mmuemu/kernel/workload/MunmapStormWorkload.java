package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * The threads of one process, one per core, each repeatedly mapping a region, touching every page
 * of it (a store, so each page faults in), and unmapping it. Every munmap must remove the region's
 * translations from every core that may cache them, so the run shows what the architecture's TLB
 * maintenance costs: broadcast TLBIs and DSBs on arm64, INVLPGs and IPI shootdowns to the other
 * threads' cores on x86.
 *
 * <p>Each thread also has a one-page VMA (its stack) right above its region, touched once, so the
 * region's page tables are shared with a live mapping and stay, as when mmap places a region among
 * a process's other mappings: each munmap clears leaves only (leaf-only invalidation), through one
 * mmu_gather.
 *
 * <p>With {@code vmasPerRegion} above 1 the region is mapped as that many adjacent VMAs and one
 * munmap removes them all, which shows {@code tlb_end_vma}: arm64 flushes once per VMA, x86 (which
 * merges VMAs in one gather) once per munmap. {@code // MODEL:} Linux would merge adjacent
 * anonymous mappings with the same flags into one VMA; the split stands for a region whose parts
 * differ (protections, policies), which the model does not track.
 *
 * <p>Each step is one action: an mmap, one page touched, or an munmap.
 */
public final class MunmapStormWorkload implements Workload {
  static final long DATA_BASE_VA = 0x20_0000_0000L;
  private static final long THREAD_SPACING_BYTES = 1L << 30;

  @Override
  public String name() {
    return "munmap-storm";
  }

  @Override
  public String description() {
    return "each core's thread of one process maps a region, touches every page, unmaps it, and repeats";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(1, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.size(
            "regionBytes",
            "64KiB",
            4096,
            (1L << 30) - 4096,
            "bytes mapped, touched and unmapped each round"),
        WorkloadParam.integer(
            "iterations", "200", 1, 100_000_000, "map-touch-unmap rounds per thread"),
        WorkloadParam.integer(
            "vmasPerRegion",
            "1",
            1,
            1024,
            "adjacent VMAs the region is mapped as (each a whole number of pages); one munmap"
                + " removes them all"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.coresParam(params, "threads", machine, machine.coreCount(), 1);
    long regionBytes = (params.bytes("regionBytes") + 4095) & ~4095L;
    long iterations = params.integer("iterations");
    int vmas = (int) params.integer("vmasPerRegion");
    if (regionBytes % (vmas * 4096L) != 0) {
      throw new WorkloadException(
          "vmasPerRegion: "
              + vmas
              + " (expected: divides the region's "
              + regionBytes / 4096
              + " pages)");
    }
    Mm mm = kernel.createMm();
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      programs[thread] =
          new StormThread(
              kernel,
              mm,
              DATA_BASE_VA + thread * THREAD_SPACING_BYTES,
              regionBytes,
              vmas,
              iterations);
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("regionBytes", Long.toString(regionBytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }

  /** One thread: mmap, touch each page, munmap, for each iteration. */
  private static final class StormThread implements CoreProgram {
    private final Kernel kernel;
    private final Mm mm;
    private final long baseVa;
    private final long regionBytes;
    private final int vmas;
    private long remainingIterations;
    private long nextTouchOffset = -1;
    private boolean started;

    StormThread(Kernel kernel, Mm mm, long baseVa, long regionBytes, int vmas, long iterations) {
      this.kernel = kernel;
      this.mm = mm;
      this.baseVa = baseVa;
      this.regionBytes = regionBytes;
      this.vmas = vmas;
      this.remainingIterations = iterations;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, mm);
        long stackVa = baseVa + regionBytes;
        kernel.mmap(core, mm, new Vma(stackVa, stackVa + 4096, PteFlags.WRITE, "stack"));
        kernel.machine().access(core, stackVa, 8, AccessKind.WRITE);
        started = true;
        return true;
      }
      if (nextTouchOffset < 0) {
        long vmaBytes = regionBytes / vmas;
        for (long va = baseVa; va < baseVa + regionBytes; va += vmaBytes) {
          kernel.mmap(core, mm, new Vma(va, va + vmaBytes, PteFlags.WRITE, "storm"));
        }
        nextTouchOffset = 0;
        return true;
      }
      if (nextTouchOffset < regionBytes) {
        kernel.machine().access(core, baseVa + nextTouchOffset, 8, AccessKind.WRITE);
        nextTouchOffset += 4096;
        return true;
      }
      kernel.munmap(core, mm, baseVa, baseVa + regionBytes);
      nextTouchOffset = -1;
      return --remainingIterations > 0;
    }
  }
}
