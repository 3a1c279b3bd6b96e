package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.mm.Mm;

/**
 * Linux's arm64 TLB flush policy (arch/arm64/include/asm/tlbflush.h): broadcast
 * inner-shareable TLBIs bracketed by {@code DSB ISHST} (table stores visible to every walker)
 * and {@code DSB ISH} (wait for completion everywhere); a per-page loop up to
 * {@code MAX_TLBI_OPS} pages, an ASID-wide flush above it; kernel ranges by {@code VAALE1IS}
 * with a trailing {@code ISB}, or {@code VMALLE1IS} above the limit.
 *
 * <p>{@code // MODEL:} a first cut: no range TLBIs (FEAT_TLBIRANGE), no KPTI pairs, and ASIDs
 * from the kernel's sequential allocator rather than arm64's generation allocator.
 */
public final class Arm64TlbPolicy implements ArchTlbPolicy {
  /** Linux's MAX_TLBI_OPS (MAX_DVM_OPS): PTRS_PER_PTE with 4 KiB pages. */
  static final long MAX_TLBI_OPS = 512;
  private final Kernel kernel;
  private final Machine machine;

  public Arm64TlbPolicy(Kernel kernel) {
    this.kernel = kernel;
    this.machine = kernel.machine();
  }

  @Override
  public void switchMm(int core, Mm previous, Mm next) {
    if (next.asid() < 0) {
      next.setAsid(kernel.allocateAsid());
    }
    machine.core(core).context().setUser(next.rootPfn() << PhysicalMemory.FRAME_SHIFT, next.asid());
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
  }

  @Override
  public void flushTlbRange(int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
    long start = machine.now(core);
    long stride = 1L << strideShift;
    long alignedStart = startVa & -stride;
    long alignedEnd = (endVa + stride - 1) & -stride;
    long pages = (alignedEnd - alignedStart) >>> PhysicalMemory.FRAME_SHIFT;
    if (pages >= MAX_TLBI_OPS * (stride >>> PhysicalMemory.FRAME_SHIFT)) {
      flushAsid(core, mm);
    } else {
      machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
      for (long va = alignedStart; va < alignedEnd; va += stride) {
        machine.invalidateBroadcast(core, InvalidationScope.VA, va, va + stride, mm.asid(), lastLevel);
      }
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    }
    machine.stats().recordLatency("flush_tlb_range", machine.now(core) - start);
  }

  @Override
  public void flushTlbMm(int core, Mm mm) {
    long start = machine.now(core);
    flushAsid(core, mm);
    machine.stats().recordLatency("flush_tlb_mm", machine.now(core) - start);
  }

  private void flushAsid(int core, Mm mm) {
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidateBroadcast(core, InvalidationScope.ASID, 0, 0, mm.asid(), false);
    machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
  }

  @Override
  public void flushTlbKernelRange(int core, long startVa, long endVa) {
    long start = machine.now(core);
    long alignedStart = startVa & ~0xFFFL;
    long alignedEnd = (endVa + 0xFFF) & ~0xFFFL;
    long pages = (alignedEnd - alignedStart) >>> PhysicalMemory.FRAME_SHIFT;
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    if (pages > MAX_TLBI_OPS) {
      machine.invalidateBroadcast(core, InvalidationScope.ALL, 0, 0, 0, false);
    } else {
      for (long va = alignedStart; va != alignedEnd; va += 1L << PhysicalMemory.FRAME_SHIFT) {
        machine.invalidateBroadcast(core, InvalidationScope.VA_ALL_ASIDS, va, va + 4096, 0, true);
      }
    }
    machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
    machine.stats().recordLatency("flush_tlb_kernel_range", machine.now(core) - start);
  }
}
