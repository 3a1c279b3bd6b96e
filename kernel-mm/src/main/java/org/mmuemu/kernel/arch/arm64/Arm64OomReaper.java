package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * The OOM reaper's unmap of a victim's memory ({@code __oom_reap_task_mm}) as it meets arm64's
 * {@code tlb_flush} (DOMAIN.md §3.6). The victim may still run on other cores while it is
 * reaped, so whether its TLB entries are flushed before its pages are freed decides whether
 * those threads can reach reused frames.
 *
 * <p>The {@code oomReaperGather} kernel variant selects the gather:
 * <ul>
 *   <li>{@code perVma} (default; 687cb0884a71, 4.15): one mmu_gather per VMA over its range, so
 *       fullmm is never set and arm64 issues {@code DSB ISHST; TLBI VALE1IS (or the range/ASID
 *       form); DSB ISH} before any page is freed;
 *   <li>{@code fullmm} (the 2017 bug, CVE-2017-18202): one gather over the whole address space
 *       with the old API, which sets fullmm, so arm64 skips the flush although the mm is live.
 * </ul>
 *
 * <p>Counter: {@code oomReapedPages}.
 *
 * <p>{@code // MODEL:} every VMA is reaped (Linux skips VM_LOCKED, VM_PFNMAP, shared file
 * mappings); page tables are kept; mmu_gather batching is reduced to collect, flush, free.
 */
public final class Arm64OomReaper {
  private final Kernel kernel;
  private final Machine machine;
  private final Arm64TlbPolicy policy;
  private final boolean wholeMmGather;

  public Arm64OomReaper(Kernel kernel, Arm64TlbPolicy policy) {
    this.kernel = kernel;
    this.machine = kernel.machine();
    this.policy = policy;
    this.wholeMmGather = "fullmm".equals(kernel.config().variants().get("oomReaperGather"));
  }

  /** Reaps every VMA of {@code mm} on {@code core}. */
  public void reap(int core, Mm mm) {
    long start = machine.now(core);
    if (wholeMmGather) {
      FreedPages freed = new FreedPages();
      for (Vma vma : mm.vmas()) {
        unmap(core, mm, vma, freed);
      }
      policy.tlbFlush(core, mm, new Arm64TlbPolicy.Gather(true, false, 0, -1L, PhysicalMemory.FRAME_SHIFT));
      freed.free(core);
    } else {
      for (Vma vma : mm.vmas()) {
        FreedPages freed = new FreedPages();
        unmap(core, mm, vma, freed);
        if (freed.count > 0) {
          policy.tlbFlush(core, mm, new Arm64TlbPolicy.Gather(false, false, vma.startVa(), vma.endVa(),
              PhysicalMemory.FRAME_SHIFT));
        }
        freed.free(core);
      }
    }
    machine.stats().recordLatency("oom_reap", machine.now(core) - start);
  }

  private void unmap(int core, Mm mm, Vma vma, FreedPages freed) {
    for (long va = vma.startVa(); va < vma.endVa(); va += 1L << PhysicalMemory.FRAME_SHIFT) {
      long pfn = kernel.tables().clearLeaf(mm.rootPfn(), va, core);
      if (pfn > 0) {
        freed.add(pfn);
      }
    }
  }

  /** The pages an mmu_gather batches until after its flush. */
  private final class FreedPages {
    private long[] pfns = new long[16];
    private int count;

    void add(long pfn) {
      if (count == pfns.length) {
        pfns = java.util.Arrays.copyOf(pfns, count * 2);
      }
      pfns[count++] = pfn;
    }

    void free(int core) {
      for (int i = 0; i < count; i++) {
        machine.memory().free(pfns[i]);
        machine.charge(core, kernel.config().cost("pageFreeCycles"));
      }
      machine.stats().addKernelCounter("oomReapedPages", count);
    }
  }
}
