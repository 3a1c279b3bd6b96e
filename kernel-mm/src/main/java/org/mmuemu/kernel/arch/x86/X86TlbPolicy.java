package org.mmuemu.kernel.arch.x86;

import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.mm.Mm;

/**
 * Linux's x86 TLB flush policy (arch/x86/mm/tlb.c): the initiator flushes its own TLB, then
 * interrupts every other core running the mm and waits for their acknowledgements; each
 * flush is one INVLPG per page up to {@code tlb_single_page_flush_ceiling} (33) pages, a flush
 * of the whole address space above it.
 *
 * <p>{@code // MODEL:} a first cut: the cores interrupted are those running the mm now (no
 * tlb_gen protocol, no lazy-TLB cores, no stale mm_cpumask bits), the whole-space flush is an
 * INVPCID of the mm's PCID, and PCIDs come from the kernel's sequential allocator rather than
 * Linux's six per-CPU dynamic ASIDs.
 */
public final class X86TlbPolicy implements ArchTlbPolicy {
  /** Linux's default tlb_single_page_flush_ceiling. */
  static final long SINGLE_PAGE_FLUSH_CEILING = 33;
  private final Kernel kernel;
  private final Machine machine;
  private final int[] targets;

  public X86TlbPolicy(Kernel kernel) {
    this.kernel = kernel;
    this.machine = kernel.machine();
    this.targets = new int[machine.coreCount()];
  }

  @Override
  public void switchMm(int core, Mm previous, Mm next) {
    if (next.asid() < 0) {
      next.setAsid(kernel.allocateAsid());
    }
    machine.core(core).context().setUser(next.rootPfn() << PhysicalMemory.FRAME_SHIFT, next.asid());
  }

  @Override
  public void flushTlbRange(int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
    long start = machine.now(core);
    long stride = 1L << strideShift;
    long alignedStart = startVa & -stride;
    long alignedEnd = (endVa + stride - 1) & -stride;
    long pages = (alignedEnd - alignedStart) >>> strideShift;
    boolean full = pages > SINGLE_PAGE_FLUSH_CEILING;
    int count = kernel.coresRunning(mm, targets);
    for (int i = 0; i < count; i++) {
      if (targets[i] == core) {
        flushLocal(core, mm, alignedStart, alignedEnd, stride, full);
      }
    }
    machine.sendIpis(core, targets, count,
        (target, initiator) -> flushLocal(target, mm, alignedStart, alignedEnd, stride, full), true);
    machine.stats().recordLatency("flush_tlb_range", machine.now(core) - start);
  }

  private void flushLocal(int core, Mm mm, long startVa, long endVa, long stride, boolean full) {
    if (full) {
      machine.invalidateLocal(core, InvalidationScope.ASID, 0, 0, mm.asid(), false);
      return;
    }
    for (long va = startVa; va < endVa; va += stride) {
      machine.invalidateLocal(core, InvalidationScope.VA, va, va + stride, mm.asid(), false);
    }
  }

  @Override
  public void flushTlbMm(int core, Mm mm) {
    long start = machine.now(core);
    int count = kernel.coresRunning(mm, targets);
    for (int i = 0; i < count; i++) {
      if (targets[i] == core) {
        machine.invalidateLocal(core, InvalidationScope.ASID, 0, 0, mm.asid(), false);
      }
    }
    machine.sendIpis(core, targets, count,
        (target, initiator) -> machine.invalidateLocal(target, InvalidationScope.ASID, 0, 0, mm.asid(), false), true);
    machine.stats().recordLatency("flush_tlb_mm", machine.now(core) - start);
  }

  @Override
  public void flushTlbKernelRange(int core, long startVa, long endVa) {
    long start = machine.now(core);
    long alignedStart = startVa & ~0xFFFL;
    long alignedEnd = (endVa + 0xFFF) & ~0xFFFL;
    boolean full = ((alignedEnd - alignedStart) >>> PhysicalMemory.FRAME_SHIFT) > SINGLE_PAGE_FLUSH_CEILING;
    int count = 0;
    for (int other = 0; other < machine.coreCount(); other++) {
      targets[count++] = other;
    }
    flushKernelLocal(core, alignedStart, alignedEnd, full);
    machine.sendIpis(core, targets, count,
        (target, initiator) -> flushKernelLocal(target, alignedStart, alignedEnd, full), true);
    machine.stats().recordLatency("flush_tlb_kernel_range", machine.now(core) - start);
  }

  private void flushKernelLocal(int core, long startVa, long endVa, boolean full) {
    if (full) {
      machine.invalidateLocal(core, InvalidationScope.ALL, 0, 0, 0, false);
      return;
    }
    for (long va = startVa; va != endVa; va += 1L << PhysicalMemory.FRAME_SHIFT) {
      machine.invalidateLocal(core, InvalidationScope.VA, va, va + 4096, 0, false);
    }
  }
}
