package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * Linux's transparent contiguous PTEs for user mappings (arch/arm64/mm/contpte.c, 6.9+;
 * DOMAIN.md §4.5): a naturally aligned block of 16 valid PTEs mapping 16 consecutive frames
 * from a 64 KiB-aligned one, with the same attributes, is folded (the contiguous bit set on all
 * 16) so one TLB entry covers it; any change to part of a folded block first unfolds it. Both
 * directions go through {@code contpte_convert}: clear all 16 (gathering access and dirty
 * state), flush the 64 KiB range (leaf, level 3), write the 16 new entries; the
 * break-before-make sequence the architecture requires.
 *
 * <p>Counters: {@code contpteFolds}, {@code contpteUnfolds}.
 *
 * <p>{@code // MODEL:} there are no folios in kernel-mm, so "the block lies in one folio" is
 * taken as "the frames are consecutive"; no FEAT_BBM level-2 shortcut; kernel (init_mm)
 * mappings are never folded, as in Linux.
 */
public final class Arm64Contpte {
  /** CONT_PTES with the 4 KiB granule. */
  public static final int CONT_PTES = 16;
  /** CONT_PTE_SIZE: 64 KiB. */
  public static final long CONT_PTE_SIZE = (long) CONT_PTES << PhysicalMemory.FRAME_SHIFT;
  private static final int LEAF_LEVEL = 3;
  private static final int IGNORED = PteFlags.ACCESSED | PteFlags.DIRTY;

  private final Machine machine;
  private final PageTableFormat format;
  private final PageTableEditor tables;
  private final Arm64TlbPolicy policy;

  public Arm64Contpte(Kernel kernel, Arm64TlbPolicy policy) {
    this.machine = kernel.machine();
    this.format = machine.format();
    this.tables = kernel.tables();
    this.policy = policy;
  }

  /**
   * Linux {@code contpte_try_fold}: folds the 64 KiB block holding {@code va} when it qualifies.
   *
   * @return whether it was folded
   */
  public boolean tryFold(int core, Mm mm, long va) {
    long blockVa = va & -CONT_PTE_SIZE;
    long first = tables.leafDescriptor(mm.rootPfn(), blockVa);
    if (first == 0) {
      return false;
    }
    long basePfn = format.outputPa(first, LEAF_LEVEL) >>> PhysicalMemory.FRAME_SHIFT;
    int attributes = format.flags(first, LEAF_LEVEL) & ~IGNORED;
    if ((basePfn & (CONT_PTES - 1)) != 0 || (attributes & PteFlags.CONTIGUOUS) != 0) {
      return false;
    }
    for (int i = 0; i < CONT_PTES; i++) {
      long d = tables.leafDescriptor(mm.rootPfn(), blockVa + ((long) i << PhysicalMemory.FRAME_SHIFT));
      if (d == 0 || !isPage(d) || (format.flags(d, LEAF_LEVEL) & ~IGNORED) != attributes
          || format.outputPa(d, LEAF_LEVEL) >>> PhysicalMemory.FRAME_SHIFT != basePfn + i) {
        return false;
      }
    }
    convert(core, mm, blockVa, true);
    machine.stats().addKernelCounter("contpteFolds", 1);
    return true;
  }

  /**
   * Linux {@code contpte_try_unfold}: unfolds the block holding {@code va} if it is folded, before
   * a change to part of it.
   *
   * @return whether it was unfolded
   */
  public boolean tryUnfold(int core, Mm mm, long va) {
    long d = tables.leafDescriptor(mm.rootPfn(), va);
    if (d == 0 || !isPage(d) || (format.flags(d, LEAF_LEVEL) & PteFlags.CONTIGUOUS) == 0) {
      return false;
    }
    convert(core, mm, va & -CONT_PTE_SIZE, false);
    machine.stats().addKernelCounter("contpteUnfolds", 1);
    return true;
  }

  /**
   * Linux {@code contpte_set_ptes}: maps {@code pages} new pages from {@code va} to the frames
   * from {@code pa} onto empty slots, with the contiguous bit on every whole 64 KiB block whose
   * VA and PA are both aligned.
   */
  public void setPtes(int core, Mm mm, long va, long pa, long pages, int flags) {
    long end = va + (pages << PhysicalMemory.FRAME_SHIFT);
    while (va < end) {
      boolean whole = (va & (CONT_PTE_SIZE - 1)) == 0 && (pa & (CONT_PTE_SIZE - 1)) == 0 && end - va >= CONT_PTE_SIZE;
      long step = whole ? CONT_PTE_SIZE : 1L << PhysicalMemory.FRAME_SHIFT;
      int entryFlags = whole ? flags | PteFlags.CONTIGUOUS : flags & ~PteFlags.CONTIGUOUS;
      for (long offset = 0; offset < step; offset += 1L << PhysicalMemory.FRAME_SHIFT) {
        tables.map(mm.rootPfn(), va + offset, pa + offset, LEAF_LEVEL, entryFlags, core);
      }
      va += step;
      pa += step;
    }
  }

  private boolean isPage(long descriptor) {
    return format.isValid(descriptor, LEAF_LEVEL) && format.isLeaf(descriptor, LEAF_LEVEL);
  }

  /** Linux {@code contpte_convert}: break (clear all 16, flush), then make with or without the bit. */
  private void convert(int core, Mm mm, long blockVa, boolean contiguous) {
    long[] pfns = new long[CONT_PTES];
    int gathered = 0;
    int attributes = 0;
    for (int i = 0; i < CONT_PTES; i++) {
      long va = blockVa + ((long) i << PhysicalMemory.FRAME_SHIFT);
      long d = tables.leafDescriptor(mm.rootPfn(), va);
      int flags = format.flags(d, LEAF_LEVEL);
      gathered |= flags & IGNORED;
      attributes = flags & ~IGNORED & ~PteFlags.CONTIGUOUS;
      pfns[i] = tables.clearLeaf(mm.rootPfn(), va, core);
    }
    policy.flushTlbRange(core, mm, blockVa, blockVa + CONT_PTE_SIZE, PhysicalMemory.FRAME_SHIFT, true);
    int flags = attributes | gathered | (contiguous ? PteFlags.CONTIGUOUS : 0);
    for (int i = 0; i < CONT_PTES; i++) {
      tables.map(mm.rootPfn(), blockVa + ((long) i << PhysicalMemory.FRAME_SHIFT),
          pfns[i] << PhysicalMemory.FRAME_SHIFT, LEAF_LEVEL, flags, core);
    }
  }
}
