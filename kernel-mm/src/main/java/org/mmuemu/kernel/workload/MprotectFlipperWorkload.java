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
 * mprotect against page faults (DOMAIN-FAULTS.md §1.10, W-VL2 and W-VL3). Thread 0 (the flipper)
 * maps two anonymous VMAs, A (the fault threads' memory) and B, writes the first page of each (so
 * both have an {@code anon_vma}) and every page of B, and then loops: {@code mprotect} of the
 * target read-only, {@code mprotect} of it read-write, a store to its first page (a write fault
 * that makes the PTE writable again, so the next read-only flip has a PTE to write-protect and
 * flush). The other threads each read every page of their own part of A (each read faults a page
 * in) and finish; the flipper stops when they all have.
 *
 * <p>{@code target=other} (W-VL2) flips B: with {@code faultLocking=perVma} the fault threads hold
 * only A's VMA lock and never wait for the flipper; with {@code mmapLock} every flip's write hold
 * of {@code mmap_lock} stalls them all. {@code target=same} (W-VL3) flips A itself: its faults find
 * A write-locked while an mprotect runs, fall back to {@code mmap_lock} ({@code vmaLockAbort}) and
 * queue there, as before 6.4, and each {@code vma_start_write} waits for A's readers.
 *
 * <p>Each fault thread's part starts on its own 2 MiB boundary, so no two share a PTE table's lock.
 * Each step is one action: an mmap, an access, an mprotect, or a poll while the fault threads wait
 * for the set-up ({@link MmWorkloads#POLL_CYCLES}).
 */
public final class MprotectFlipperWorkload implements Workload {
  private static final long PART_SPACING_BYTES = 2L << 20;
  private static final long B_OFFSET_BYTES = 1L << 30;

  @Override
  public String name() {
    return "mprotect-flipper";
  }

  @Override
  public String description() {
    return "one thread flips a VMA read-only and back with mprotect while the others fault in"
        + " pages of another VMA (target=other) or of that one (target=same)";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(
            2,
            "threads, one per core from core 0: the flipper and the fault threads (default: every"
                + " core)"),
        WorkloadParam.size(
            "regionBytes",
            "1MiB",
            4096,
            PART_SPACING_BYTES,
            "bytes of A each fault thread reads, one fault per page"),
        WorkloadParam.size("targetBytes", "64KiB", 4096, 1L << 24, "bytes of VMA B"),
        WorkloadParam.choice(
            "target",
            "other",
            List.of("other", "same"),
            "the VMA the flipper mprotects: other = B (W-VL2), same = A, where the faults are"
                + " (W-VL3)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 2);
    long regionBytes = MmWorkloads.pageAligned(params.bytes("regionBytes"));
    long targetBytes = MmWorkloads.pageAligned(params.bytes("targetBytes"));
    boolean same = params.choice("target").equals("same");
    Shared shared = new Shared(kernel.createMm(), threads - 1);
    long aStartVa = MmWorkloads.DATA_BASE_VA;
    // the flipper's own page first, then one 2 MiB-aligned part per fault thread
    Vma a = new Vma(aStartVa, aStartVa + threads * PART_SPACING_BYTES, PteFlags.WRITE, "flipper-a");
    long bStartVa = aStartVa + B_OFFSET_BYTES;
    Vma b = new Vma(bStartVa, bStartVa + targetBytes, PteFlags.WRITE, "flipper-b");
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    programs[0] = new Flipper(kernel, shared, a, b, same ? a : b);
    for (int thread = 1; thread < threads; thread++) {
      long partVa = aStartVa + thread * PART_SPACING_BYTES;
      programs[thread] = new FaultThread(kernel, shared, partVa, partVa + regionBytes);
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("regionBytes", Long.toString(regionBytes));
    effective.put("targetBytes", Long.toString(targetBytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }

  /** What the threads share: the mm, whether the set-up is done, how many fault threads run. */
  private static final class Shared {
    final Mm mm;
    boolean ready;
    int faultThreadsRunning;

    Shared(Mm mm, int faultThreads) {
      this.mm = mm;
      this.faultThreadsRunning = faultThreads;
    }
  }

  /** Thread 0: maps and populates A and B, then flips the target until the faults are done. */
  private static final class Flipper implements CoreProgram {
    private final Kernel kernel;
    private final Shared shared;
    private final Vma a;
    private final Vma b;
    private final Vma target;
    private long populateVa = -1;
    private int phase;

    Flipper(Kernel kernel, Shared shared, Vma a, Vma b, Vma target) {
      this.kernel = kernel;
      this.shared = shared;
      this.a = a;
      this.b = b;
      this.target = target;
    }

    @Override
    public boolean step(int core) {
      if (!shared.ready) {
        return setUp(core);
      }
      if (shared.faultThreadsRunning == 0) {
        return false;
      }
      long startVa = target.startVa();
      long endVa = target.endVa();
      switch (phase) {
        case 0 -> kernel.mprotect(core, shared.mm, startVa, endVa, 0);
        case 1 -> kernel.mprotect(core, shared.mm, startVa, endVa, PteFlags.WRITE);
        default -> kernel.machine().access(core, startVa, 8, AccessKind.WRITE);
      }
      phase = (phase + 1) % 3;
      return true;
    }

    private boolean setUp(int core) {
      if (populateVa < 0) {
        kernel.switchTo(core, shared.mm);
        kernel.mmap(core, shared.mm, a);
        kernel.mmap(core, shared.mm, b);
        kernel.machine().access(core, a.startVa(), 8, AccessKind.WRITE);
        populateVa = b.startVa();
        return true;
      }
      kernel.machine().access(core, populateVa, 8, AccessKind.WRITE);
      populateVa += 4096;
      if (populateVa >= b.endVa()) {
        shared.ready = true;
      }
      return true;
    }
  }

  /** A fault thread: waits for the set-up, then reads each page of its part of A once. */
  private static final class FaultThread implements CoreProgram {
    private final Kernel kernel;
    private final Shared shared;
    private final long endVa;
    private long nextVa;
    private boolean started;

    FaultThread(Kernel kernel, Shared shared, long startVa, long endVa) {
      this.kernel = kernel;
      this.shared = shared;
      this.nextVa = startVa;
      this.endVa = endVa;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, shared.mm);
        started = true;
      }
      if (!shared.ready) {
        kernel.machine().charge(core, MmWorkloads.POLL_CYCLES);
        return true;
      }
      kernel.machine().access(core, nextVa, 8, AccessKind.READ);
      nextVa += 4096;
      if (nextVa >= endVa) {
        shared.faultThreadsRunning--;
        return false;
      }
      return true;
    }
  }
}
