package org.mmuemu.kernel.mm;

import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;

/**
 * The frames of the shared zero pages (Linux {@code empty_zero_page} / {@code my_zero_pfn} and the
 * huge zero folio of mm/huge_memory.c): what a read fault in anonymous memory maps instead of a new
 * page. Code that meets a frame through a page-table entry asks {@link #isZero} first, as Linux's
 * {@code vm_normal_page} returns NULL for them: such a frame is never refcounted, rmapped, freed,
 * migrated, made writable or NUMA-hinted.
 *
 * <p>The 4 KiB zero page is allocated when the kernel boots; the 2 MiB huge zero page on its first
 * use ({@code thp_zero_page_alloc}). Both are {@link FrameKind#KERNEL} frames that are never freed
 * and never allocated again, so a TLB entry to them never goes stale for the oracle, however many
 * address spaces map them.
 *
 * <p>{@code // MODEL:} one zero page (arm64 and x86 have one; MIPS and s390 colour several, {@code
 * my_zero_pfn} by address); the huge zero page is never given back (Linux's shrinker frees it when
 * no PMD maps it; a later use allocates it again). Confined to the simulation thread.
 */
public final class ZeroPfns {
  /** 4 KiB pages in the 2 MiB huge zero page. */
  public static final int HUGE_PAGES = 1 << (21 - PhysicalMemory.FRAME_SHIFT);

  private final PhysicalMemory memory;
  private final long zeroPfn;
  private long hugeZeroHeadPfn = -1;

  /** Allocates the zero page (at boot). */
  public ZeroPfns(PhysicalMemory memory) {
    this.memory = memory;
    this.zeroPfn = memory.allocate(FrameKind.KERNEL);
  }

  /** The 4 KiB zero page ({@code my_zero_pfn}). */
  public long zeroPfn() {
    return zeroPfn;
  }

  /**
   * Whether {@code pfn} is a frame of a zero page, small or huge ({@code is_zero_pfn}, {@code
   * is_huge_zero_pfn}): not a normal page.
   */
  public boolean isZero(long pfn) {
    return pfn == zeroPfn || isHugeZero(pfn);
  }

  /** Whether {@code pfn} is a frame of the huge zero page. */
  public boolean isHugeZero(long pfn) {
    return hugeZeroHeadPfn >= 0 && pfn >= hugeZeroHeadPfn && pfn < hugeZeroHeadPfn + HUGE_PAGES;
  }

  /** Whether the huge zero page has been allocated. */
  public boolean hugeZeroAllocated() {
    return hugeZeroHeadPfn >= 0;
  }

  /**
   * The head frame of the huge zero page, allocated (2 MiB aligned, zeroed) on the first call
   * ({@code mm_get_huge_zero_folio}); the caller charges and counts that allocation when {@link
   * #hugeZeroAllocated} was false before.
   */
  public long hugeZeroHeadPfn() {
    if (hugeZeroHeadPfn < 0) {
      hugeZeroHeadPfn = memory.allocateContiguous(HUGE_PAGES, FrameKind.KERNEL);
    }
    return hugeZeroHeadPfn;
  }
}
