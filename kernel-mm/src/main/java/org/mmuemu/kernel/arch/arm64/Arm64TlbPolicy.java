package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.FlushCompletion;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.mm.Mm;

/**
 * Linux's arm64 TLB maintenance policy (arch/arm64/include/asm/tlbflush.h, arch/arm64/mm/
 * context.c, asm/tlb.h; DOMAIN.md §4): inner-shareable TLBIs bracketed by {@code DSB ISHST} (table
 * stores visible to every walker) and {@code DSB ISH} (wait for completion everywhere), plus {@code
 * ISB} when kernel mappings changed.
 *
 * <ul>
 *   <li>{@link #flushTlbMm}: {@code DSB ISHST; TLBI ASIDE1IS; DSB ISH}.
 *   <li>{@link #flushTlbPage}: {@code DSB ISHST; TLBI VALE1IS; DSB ISH}.
 *   <li>{@link #flushTlbRange} ({@code __flush_tlb_range}): an ASID-wide flush when the range is
 *       too big ({@code MAX_TLBI_OPS} = 512 strides without FEAT_TLBIRANGE, more than {@code
 *       MAX_TLBI_RANGE_PAGES} with it); otherwise the 6.9+ {@code __flush_tlb_range_op} loop: range
 *       TLBIs from SCALE 3 down, single-page TLBIs for what no range op covers (all of it without
 *       FEAT_TLBIRANGE). {@code VALE1IS} forms when only leaves changed.
 *   <li>{@link #flushTlbKernelRange}: the same limit, {@code VAALE1IS} (range or per page) with
 *       ASID 0, then {@code DSB ISH; ISB}; above the limit {@code flush_tlb_all} ({@code
 *       VMALLE1IS}).
 *   <li>{@link #flushTlbKernelPgtable}: {@code DSB ISHST; TLBI VAAE1IS; DSB ISH; ISB}: all levels,
 *       so the walk-cache entry of a freed kernel table goes too.
 *   <li>{@link #switchMm}: the generation ASID allocator ({@link Arm64AsidAllocator}); a core that
 *       owes a flush after a rollover does {@code local_flush_tlb_all} ({@code DSB NSHST; TLBI
 *       VMALLE1; DSB NSH; ISB}) before installing the new ASID.
 *   <li>{@link #tlbFlush}: the arm64 {@code tlb_flush} of an mmu_gather, which skips the flush for
 *       a fullmm teardown unless tables were freed ({@code Kernel.oomReap} with the {@code
 *       oomReaperGather} variant shows what that means for a live mm).
 * </ul>
 *
 * <p>Every flush records its latency under the Linux function's name ({@code flush_tlb_range},
 * {@code flush_tlb_mm}, {@code flush_tlb_page}, {@code flush_tlb_kernel_range}, {@code
 * __flush_tlb_kernel_pgtable}, {@code flush_tlb_all}).
 *
 * <p>{@code // MODEL:} no KPTI (each user TLBI would be issued twice), no FEAT_TTL level hints, no
 * LPA2, no errata workarounds (repeat TLBI + DSB), no secondary-TLB (MMU notifier) calls. Confined
 * to the simulation thread.
 */
public final class Arm64TlbPolicy implements ArchTlbPolicy {
  private static final KernelOperation OP_FLUSH_TLB_MM = KernelOperation.named("flush_tlb_mm");
  private static final KernelOperation OP_FLUSH_TLB_PAGE = KernelOperation.named("flush_tlb_page");
  private static final KernelOperation OP_FLUSH_TLB_RANGE =
      KernelOperation.named("flush_tlb_range");
  private static final KernelOperation OP_FLUSH_TLB_ALL = KernelOperation.named("flush_tlb_all");
  private static final KernelOperation OP_FLUSH_TLB_KERNEL_RANGE =
      KernelOperation.named("flush_tlb_kernel_range");
  private static final KernelOperation OP_FLUSH_TLB_KERNEL_PGTABLE =
      KernelOperation.named("__flush_tlb_kernel_pgtable");
  private static final KernelOperation OP_ARCH_TLBBATCH_FLUSH =
      KernelOperation.named("arch_tlbbatch_flush");

  /** Linux's MAX_TLBI_OPS (MAX_DVM_OPS): PTRS_PER_PTE with 4 KiB pages. */
  public static final long MAX_TLBI_OPS = 512;

  /** Linux's MAX_TLBI_RANGE_PAGES: {@code __TLBI_RANGE_PAGES(31, 3)}. */
  public static final long MAX_TLBI_RANGE_PAGES = 32L << 16;

  private static final int PAGE_SHIFT = PhysicalMemory.FRAME_SHIFT;
  private static final long PAGE_SIZE = 1L << PAGE_SHIFT;

  private final Machine machine;
  private final long lockCycles;
  private final boolean rangeOps;
  private final Arm64AsidAllocator asids;
  private final FlushCompletion completion;
  private final boolean batchedReclaimFlush;
  private final long flushCallCycles;
  private final boolean asidRolloverFlush;
  private final boolean[] reclaimFlushPending;
  private long rolloversCounted;

  public Arm64TlbPolicy(Machine machine, Arm64ArchConfig config) {
    this.machine = machine;
    this.lockCycles = config.lockCycles();
    this.rangeOps =
        machine
            .isa()
            .maintenance()
            .supports(
                Invalidation.broadcast(InvalidationScope.VA)
                    .withLastLevelOnly(true)
                    .withRange(true),
                true);
    this.asids = new Arm64AsidAllocator(machine.isa().regime().asidBits(), machine.coreCount());
    this.completion = new FlushCompletion(config.waitForFlushCompletion(), machine.coreCount());
    this.batchedReclaimFlush = config.batchedReclaimFlush();
    this.flushCallCycles = config.flushCallCycles();
    this.asidRolloverFlush = config.asidRolloverFlush();
    this.reclaimFlushPending = new boolean[machine.coreCount()];
  }

  /** Whether the CPU has FEAT_TLBIRANGE ({@code system_supports_tlb_range}). */
  public boolean hasRangeOps() {
    return rangeOps;
  }

  Arm64AsidAllocator asids() {
    return asids;
  }

  /** Linux {@code ASID(mm)}: the ASID number of the mm's context id, 0 for an mm that never ran. */
  private int asid(Mm mm) {
    return (int) asids.asidOf(contextId(mm));
  }

  /** The mm's context id ({@code mm->context.id}): generation | ASID, 0 before its first switch. */
  public static long contextId(Mm mm) {
    Object state = mm.archState();
    return state instanceof long[] id ? id[0] : Arm64AsidAllocator.NO_CONTEXT;
  }

  // ---------------------------------------------------------------------------------------
  // context switch

  /**
   * Linux {@code switch_mm}: nothing when the core already runs {@code next}; otherwise {@code
   * check_and_switch_context}, then {@code cpu_switch_mm} (TTBR0 with the ASID, ISB).
   */
  @Override
  public void switchMm(int core, Mm previous, Mm next) {
    if (previous == next && next.asid() >= 0) {
      return;
    }
    Arm64AsidAllocator.Switch result = asids.checkAndSwitch(core, contextId(next));
    if (result.slowPath()) {
      machine.charge(core, lockCycles);
    }
    if (asids.rollovers() > rolloversCounted) {
      machine.stats().addKernelCounter("asidRollovers", asids.rollovers() - rolloversCounted);
      rolloversCounted = asids.rollovers();
    }
    if (result.localFlush() && asidRolloverFlush) {
      localFlushTlbAll(core);
      machine.stats().addKernelCounter("asidRolloverLocalFlushes", 1);
    }
    if (next.archState() instanceof long[] id) {
      id[0] = result.contextId();
    } else {
      next.setArchState(new long[] {result.contextId()});
    }
    next.setAsid((int) asids.asidOf(result.contextId()));
    machine.core(core).context().setUser(next.rootPfn() << PAGE_SHIFT, next.asid());
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
  }

  /** Linux {@code local_flush_tlb_all}: {@code DSB NSHST; TLBI VMALLE1; DSB NSH; ISB}. */
  public void localFlushTlbAll(int core) {
    machine.barrier(core, BarrierKind.LOCAL_TABLE_STORES_VISIBLE);
    machine.invalidate(core, Invalidation.local(InvalidationScope.ALL), 0, 0, 0);
    machine.barrier(core, BarrierKind.LOCAL_COMPLETE);
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
  }

  // ---------------------------------------------------------------------------------------
  // user flushes

  @Override
  public void flushTlbMm(int core, Mm mm) {
    long start = OP_FLUSH_TLB_MM.begin(machine, core, 0);
    ArchTlbPolicy.chargeFlushCall(machine, core, flushCallCycles);
    flushAsid(core, mm);
    OP_FLUSH_TLB_MM.end(machine, core, 0, start);
  }

  private void flushAsid(int core, Mm mm) {
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidate(core, Invalidation.broadcast(InvalidationScope.ASID), 0, 0, asid(mm));
    completeUserFlush(core);
  }

  /**
   * The {@code DSB ISH} that ends a user flush; with {@code tlbFlushWait=none} it is owed instead
   * and issued by {@link #completeDeferredFlush}, after the caller freed the pages.
   */
  private void completeUserFlush(int core) {
    if (completion.waitNow(core)) {
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    }
  }

  @Override
  public void completeDeferredFlush(int core) {
    if (completion.takeOwed(core)) {
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    }
  }

  /** Linux {@code flush_tlb_page}: one leaf TLBI for {@code va}, level 3. */
  public void flushTlbPage(int core, Mm mm, long va) {
    long start = OP_FLUSH_TLB_PAGE.begin(machine, core, va);
    ArchTlbPolicy.chargeFlushCall(machine, core, flushCallCycles);
    flushTlbPageNosync(core, mm, va);
    completeUserFlush(core);
    OP_FLUSH_TLB_PAGE.end(machine, core, va, start);
  }

  /**
   * Linux {@code __flush_tlb_page_nosync}: {@code DSB ISHST} and the page's leaf TLBI, not waited
   * for.
   */
  private void flushTlbPageNosync(int core, Mm mm, long va) {
    long pageVa = va & -PAGE_SIZE;
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidate(
        core,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        pageVa,
        pageVa + PAGE_SIZE,
        asid(mm));
  }

  /**
   * Linux {@code __flush_tlb_range}.
   *
   * @param strideShift log2 of the stride: 12 for pages, 21 for 2 MiB blocks
   * @param lastLevel only leaves changed ({@code TLBF_NOWALKCACHE}): {@code VALE1IS} forms
   */
  @Override
  public void flushTlbRange(
      int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
    long start = OP_FLUSH_TLB_RANGE.begin(machine, core, startVa);
    ArchTlbPolicy.chargeFlushCall(machine, core, flushCallCycles);
    flushRange(core, mm, startVa, endVa, strideShift, lastLevel);
    OP_FLUSH_TLB_RANGE.end(machine, core, startVa, start);
  }

  private void flushRange(
      int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
    long stride = 1L << strideShift;
    long alignedStart = startVa & -stride;
    long alignedEnd = (endVa + stride - 1) & -stride;
    long pages = (alignedEnd - alignedStart) >>> PAGE_SHIFT;
    if (limitExcess(alignedStart, alignedEnd, pages, stride)) {
      flushAsid(core, mm);
      return;
    }
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    rangeOp(core, InvalidationScope.VA, alignedStart, pages, stride, asid(mm), lastLevel);
    completeUserFlush(core);
  }

  /**
   * Linux {@code __flush_tlb_range_limit_excess}: whether to flush the whole ASID (or everything)
   * instead.
   */
  boolean limitExcess(long start, long end, long pages, long stride) {
    if (!rangeOps && (end - start) >= MAX_TLBI_OPS * stride) {
      return true;
    }
    return pages > MAX_TLBI_RANGE_PAGES;
  }

  /**
   * Linux {@code __flush_tlb_range_op} (6.9+): without FEAT_TLBIRANGE, or for a last single page,
   * one by-VA TLBI per stride; otherwise, from SCALE 3 down to 0, one range TLBI for as many pages
   * as {@code NUM} can take at that scale.
   */
  private void rangeOp(
      int core,
      InvalidationScope scope,
      long startVa,
      long pages,
      long stride,
      int asid,
      boolean lastLevel) {
    long va = startVa;
    int scale = 3;
    while (pages > 0) {
      if (!rangeOps || pages == 1) {
        machine.invalidate(
            core,
            Invalidation.broadcast(scope).withLastLevelOnly(lastLevel),
            va,
            va + stride,
            asid);
        va += stride;
        pages -= stride >>> PAGE_SHIFT;
        continue;
      }
      int num = rangeNum(pages, scale);
      if (num >= 0) {
        long covered = rangePages(num, scale);
        machine.invalidate(
            core,
            Invalidation.broadcast(scope).withLastLevelOnly(lastLevel).withRange(true),
            va,
            va + (covered << PAGE_SHIFT),
            asid);
        va += covered << PAGE_SHIFT;
        pages -= covered;
      }
      scale--;
    }
  }

  /** Linux {@code __TLBI_RANGE_PAGES(num, scale)}. */
  static long rangePages(int num, int scale) {
    return (long) (num + 1) << (5 * scale + 1);
  }

  /**
   * Linux {@code __TLBI_RANGE_NUM(pages, scale)}: the largest NUM not exceeding {@code pages}, or
   * -1.
   */
  static int rangeNum(long pages, int scale) {
    return (int) (Math.min(pages, rangePages(31, scale)) >>> (5 * scale + 1)) - 1;
  }

  // ---------------------------------------------------------------------------------------
  // reclaim: batched unmap flushing

  /**
   * With {@code arm64ReclaimTlbFlush=batched} (the default, Linux 6.5+), {@code
   * arch_tlbbatch_add_pending}: {@code DSB ISHST} and the page's {@code TLBI VALE1IS}, without
   * waiting for it ({@code __flush_tlb_range_nosync}); otherwise {@code ptep_clear_flush}'s {@link
   * #flushTlbPage}. Counter: {@code arm64TlbBatchPending}.
   */
  @Override
  public void reclaimUnmapFlush(int core, Mm mm, long va) {
    if (!batchedReclaimFlush) {
      flushTlbPage(core, mm, va);
      return;
    }
    flushTlbPageNosync(core, mm, va);
    reclaimFlushPending[core] = true;
    machine.stats().addKernelCounter("arm64TlbBatchPending", 1);
  }

  /**
   * {@code arch_tlbbatch_flush}: one {@code DSB ISH} completes every TLBI the batch issued.
   * Counter: {@code arm64TlbBatchFlushes}.
   */
  @Override
  public void reclaimUnmapFlushWait(int core) {
    if (!reclaimFlushPending[core]) {
      return;
    }
    long start = OP_ARCH_TLBBATCH_FLUSH.begin(machine, core, 0);
    machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    reclaimFlushPending[core] = false;
    machine.stats().addKernelCounter("arm64TlbBatchFlushes", 1);
    OP_ARCH_TLBBATCH_FLUSH.end(machine, core, 0, start);
  }

  /**
   * arm64 {@code ptep_clear_flush_young}: {@code DSB ISHST} and the page's {@code TLBI VALE1IS}
   * ({@code flush_tlb_page_nosync}), deliberately not waited for: the worst a core still using the
   * young entry until the TLBI lands can do is make reclaim take a page in use for an idle one, and
   * the next context switch's {@code DSB} completes it. Counter: {@code arm64ClearFlushYoungTlbis}.
   */
  @Override
  public void youngClearedFlush(int core, Mm mm, long va) {
    flushTlbPageNosync(core, mm, va);
    machine.stats().addKernelCounter("arm64ClearFlushYoungTlbis", 1);
  }

  // ---------------------------------------------------------------------------------------
  // kernel flushes

  /** Linux {@code flush_tlb_all}: {@code DSB ISHST; TLBI VMALLE1IS; DSB ISH; ISB}. */
  public void flushTlbAll(int core) {
    long start = OP_FLUSH_TLB_ALL.begin(machine, core, 0);
    flushAll(core);
    OP_FLUSH_TLB_ALL.end(machine, core, 0, start);
  }

  private void flushAll(int core) {
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidate(core, Invalidation.broadcast(InvalidationScope.ALL), 0, 0, 0);
    machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
  }

  /**
   * Linux {@code flush_tlb_kernel_range} (6.10+): leaf TLBIs for every ASID, or everything above
   * the limit.
   */
  @Override
  public void flushTlbKernelRange(int core, long startVa, long endVa) {
    long start = OP_FLUSH_TLB_KERNEL_RANGE.begin(machine, core, startVa);
    long alignedStart = startVa & -PAGE_SIZE;
    long alignedEnd = (endVa + PAGE_SIZE - 1) & -PAGE_SIZE;
    long pages = (alignedEnd - alignedStart) >>> PAGE_SHIFT;
    if (limitExcess(alignedStart, alignedEnd, pages, PAGE_SIZE)) {
      flushAll(core);
    } else {
      machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
      rangeOp(core, InvalidationScope.VA_ALL_ASIDS, alignedStart, pages, PAGE_SIZE, 0, true);
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
      machine.barrier(core, BarrierKind.CONTEXT_SYNC);
    }
    OP_FLUSH_TLB_KERNEL_RANGE.end(machine, core, startVa, start);
  }

  /**
   * Linux {@code __flush_tlb_kernel_pgtable}: after a kernel table entry is cleared, before the
   * table is freed; {@code VAAE1IS} removes the walk-cache entries through it too.
   */
  public void flushTlbKernelPgtable(int core, long va) {
    long start = OP_FLUSH_TLB_KERNEL_PGTABLE.begin(machine, core, va);
    long pageVa = va & -PAGE_SIZE;
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidate(
        core,
        Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS),
        pageVa,
        pageVa + PAGE_SIZE,
        0);
    machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
    OP_FLUSH_TLB_KERNEL_PGTABLE.end(machine, core, va, start);
  }

  // ---------------------------------------------------------------------------------------
  // mmu_gather

  /**
   * What an mmu_gather accumulated, as arm64's {@code tlb_flush} reads it.
   *
   * @param fullmm the whole address space is being torn down ({@code tlb->fullmm})
   * @param freedTables page-table pages were freed ({@code tlb->freed_tables})
   * @param strideShift log2 of the smallest level cleared ({@code tlb_get_unmap_shift})
   */
  public record Gather(
      boolean fullmm, boolean freedTables, long startVa, long endVa, int strideShift) {}

  /**
   * The arm64 {@code tlb_flush}: with fullmm, no TLBI at all unless tables were freed (then {@code
   * flush_tlb_mm} for the walk cache), because the ASID allocator wipes every TLB before the ASID
   * is reused (DOMAIN.md §3.6); otherwise a range flush, leaf-only unless tables were freed.
   */
  public void tlbFlush(int core, Mm mm, Gather gather) {
    if (gather.fullmm()) {
      if (gather.freedTables()) {
        flushTlbMm(core, mm);
      } else {
        machine.stats().addKernelCounter("tlbFlushFullmmElided", 1);
      }
      return;
    }
    flushTlbRange(
        core, mm, gather.startVa(), gather.endVa(), gather.strideShift(), !gather.freedTables());
  }

  /**
   * The arm64 {@code tlb_flush} for a kernel mmu_gather: see {@link #tlbFlush(int, Mm, Gather)}.
   */
  @Override
  public void tlbFlush(int core, Mm mm, org.mmuemu.kernel.arch.TlbGatherFlush gather) {
    tlbFlush(
        core,
        mm,
        new Gather(
            gather.fullmm(),
            gather.freedTables(),
            gather.startVa(),
            gather.endVa(),
            gather.strideShift()));
  }
}
