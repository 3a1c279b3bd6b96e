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
 * A thread launch storm (DOMAIN-FAULTS.md §1.10, W-VL1; the Android app launch of the per-VMA lock
 * series): the threads of one process each map a stack after another ({@code mmap}, which takes
 * {@code mmap_lock} for write) and touch every page of it from the top down (a store each, so each
 * page faults in). With {@code faultLocking=mmapLock} every fault holds {@code mmap_lock} for read,
 * so each mmap waits for the faults in progress and the faults behind it wait for the mmap; with
 * {@code perVma} only the first fault of each new stack (no {@code anon_vma} yet) takes {@code
 * mmap_lock}, so {@code vmaLockAbort} is at least the number of stacks, and the other faults do not
 * wait for anyone's mmap.
 *
 * <p>Stacks are separated by a one-page guard gap, so each is a VMA of its own. Each step is one
 * action: an mmap or one page touched.
 */
public final class LaunchStormWorkload implements Workload {
  private static final long THREAD_SPACING_BYTES = 1L << 30;
  private static final long GUARD_BYTES = 4096;

  @Override
  public String name() {
    return "launch-storm";
  }

  @Override
  public String description() {
    return "threads of one process each map stacks one after another and touch every page of"
        + " each (mmap_lock writers against faults; per-VMA locks)";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(1, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.integer("stacks", "16", 1, 4096, "stacks each thread maps and touches"),
        WorkloadParam.size(
            "stackBytes", "64KiB", 4096, 1L << 24, "bytes of each stack (whole pages)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 1);
    long stackBytes = MmWorkloads.pageAligned(params.bytes("stackBytes"));
    long stacks = params.integer("stacks");
    if (stacks * (stackBytes + GUARD_BYTES) > THREAD_SPACING_BYTES) {
      throw new WorkloadException(
          "--param stacks="
              + stacks
              + ": (expected: stacks x (stackBytes + 4 KiB guard) within 1 GiB per thread)");
    }
    Mm mm = kernel.createMm();
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      programs[thread] =
          new Launcher(
              kernel,
              mm,
              MmWorkloads.DATA_BASE_VA + thread * THREAD_SPACING_BYTES,
              stackBytes,
              stacks);
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("stackBytes", Long.toString(stackBytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }

  /** One thread: for each stack, an mmap, then a store to each page from the top down. */
  private static final class Launcher implements CoreProgram {
    private final Kernel kernel;
    private final Mm mm;
    private final long baseVa;
    private final long stackBytes;
    private final long stacks;
    private long stack;
    private long nextTouchVa = -1;
    private boolean started;

    Launcher(Kernel kernel, Mm mm, long baseVa, long stackBytes, long stacks) {
      this.kernel = kernel;
      this.mm = mm;
      this.baseVa = baseVa;
      this.stackBytes = stackBytes;
      this.stacks = stacks;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, mm);
        started = true;
      }
      long stackVa = baseVa + stack * (stackBytes + GUARD_BYTES);
      if (nextTouchVa < 0) {
        kernel.mmap(core, mm, new Vma(stackVa, stackVa + stackBytes, PteFlags.WRITE, "stack"));
        nextTouchVa = stackVa + stackBytes - 4096;
        return true;
      }
      kernel.machine().access(core, nextTouchVa, 8, AccessKind.WRITE);
      nextTouchVa -= 4096;
      if (nextTouchVa < stackVa) {
        nextTouchVa = -1;
        return ++stack < stacks;
      }
      return true;
    }
  }
}
