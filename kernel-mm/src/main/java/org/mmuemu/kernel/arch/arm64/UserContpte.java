package org.mmuemu.kernel.arch.arm64;

import static org.mmuemu.kernel.arch.arm64.Arm64KernelMappings.CONT_PTES;
import static org.mmuemu.kernel.arch.arm64.Arm64KernelMappings.CONT_PTE_SIZE;

import java.util.HashMap;
import java.util.Map;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * arm64's automatic contiguous PTEs for user memory ({@code CONFIG_ARM64_CONTPTE}, Linux 6.9+,
 * arch/arm64/mm/contpte.c), the variant {@code arm64Contpte=auto}:
 *
 * <ul>
 *   <li>{@code contpte_set_ptes}: mapping a large folio writes every whole 64 KiB block whose VA
 *       and PA are aligned with the contiguous bit, so the TLB caches the block as one entry (user
 *       TLB reach ×16); the PTEs were none, so no flush;
 *   <li>{@code contpte_try_fold}: a single PTE write that completes the last PTE of a block, when
 *       the 16 PTEs map consecutive pages of one folio with the same attributes (access and dirty
 *       aside), folds the block: {@code contpte_convert};
 *   <li>{@code contpte_try_unfold}: before a change to one PTE of a contiguous block, and before a
 *       change of a range at the blocks it covers in part, the block is unfolded: {@code
 *       contpte_convert} the other way;
 *   <li>{@code contpte_convert} is break-before-make: clear all 16 PTEs (gathering their access and
 *       dirty bits), flush the block's range ({@code __flush_tlb_range}, last level, page stride:
 *       16 {@code TLBI VALE1IS} or one range TLBI, then {@code DSB ISH}), write all 16 again.
 * </ul>
 *
 * <p>Counters: {@code contpteFolds} (blocks made contiguous, at map time or by a fold), {@code
 * contpteRefolds} (the folds of live PTEs, each a break-before-make), {@code contpteUnfolds}.
 *
 * <p>{@code // MODEL:} that a block lies in one folio is known from the blocks {@link #setPtes}
 * mapped (checked against the frames' allocation stamps, so a freed and reused frame does not
 * count), not from a folio structure; a block whose PTEs were partly cleared already (a zap that
 * stopped on a full gather) is unfolded for the PTEs still valid. Confined to the simulation
 * thread.
 */
final class UserContpte implements ArchUserPtes {
  private static final long PAGE_SIZE = 1L << PhysicalMemory.FRAME_SHIFT;
  private static final long BLOCK_MASK = CONT_PTE_SIZE - 1;
  private static final int ACCESS_DIRTY = PteFlags.ACCESSED | PteFlags.DIRTY;

  private final Machine machine;
  private final PageTableEditor tables;
  private final PageTableFormat format;
  private final Arm64TlbPolicy tlb;
  private final int leafLevel;

  /** First frame of a block some {@link #setPtes} mapped as part of one folio -> its stamp. */
  private final Map<Long, Long> folioBlocks = new HashMap<>();

  UserContpte(KernelArchContext context, Arm64ArchConfig config, Arm64TlbPolicy tlb) {
    this.machine = context.machine();
    this.tables = context.tables();
    this.format = machine.format();
    this.tlb = tlb;
    this.leafLevel = format.levels() - 1;
  }

  // arm64's arch_wants_old_prefaulted_pte: true where the CPU has hardware access-flag updates
  @Override
  public boolean wantsOldPrefaultedPtes() {
    return format.setsAccessedInHardware();
  }

  @Override
  public void setPtes(int core, Mm mm, long va, long pa, int pages, int flags) {
    long endVa = va + ((long) pages << PhysicalMemory.FRAME_SHIFT);
    long at = va;
    while (at != endVa) {
      long next = Math.min(endVa, (at & -CONT_PTE_SIZE) + CONT_PTE_SIZE);
      long atPa = pa + (at - va);
      if (((at | next | atPa) & BLOCK_MASK) == 0) {
        Arm64KernelMappings.writeContiguousBlock(tables, mm.rootPfn(), at, atPa, flags, core);
        long headPfn = atPa >>> PhysicalMemory.FRAME_SHIFT;
        folioBlocks.put(headPfn, machine.memory().allocationStamp(headPfn));
        machine.stats().addKernelCounter("contpteFolds", 1);
      } else {
        for (long page = at; page != next; page += PAGE_SIZE) {
          tables.map(
              mm.rootPfn(), page, pa + (page - va), leafLevel, flags & ~PteFlags.CONTIGUOUS, core);
        }
      }
      at = next;
    }
  }

  @Override
  public void unfold(int core, Mm mm, long va) {
    long tablePfn = tables.tableAt(mm.rootPfn(), va, leafLevel);
    if (tablePfn < 0) {
      return;
    }
    long descriptor = machine.memory().readDescriptor(tablePfn, format.index(va, leafLevel));
    if (!format.isValid(descriptor, leafLevel)
        || (format.flags(descriptor, leafLevel) & PteFlags.CONTIGUOUS) == 0) {
      return;
    }
    convert(core, mm, tablePfn, va & -CONT_PTE_SIZE, false);
    machine.stats().addKernelCounter("contpteUnfolds", 1);
  }

  @Override
  public void unfoldPartial(int core, Mm mm, long startVa, long endVa) {
    if ((startVa & BLOCK_MASK) != 0 || endVa - startVa < CONT_PTE_SIZE) {
      unfold(core, mm, startVa);
    }
    if ((endVa & BLOCK_MASK) != 0) {
      unfold(core, mm, endVa - PAGE_SIZE);
    }
  }

  @Override
  public void tryFold(int core, Mm mm, long va) {
    // only the block's last PTE, of the block's last page, can complete it (contpte_try_fold)
    if (((va >>> PhysicalMemory.FRAME_SHIFT) & (CONT_PTES - 1)) != CONT_PTES - 1) {
      return;
    }
    long tablePfn = tables.tableAt(mm.rootPfn(), va, leafLevel);
    if (tablePfn < 0) {
      return;
    }
    long last = machine.memory().readDescriptor(tablePfn, format.index(va, leafLevel));
    if (!format.isValid(last, leafLevel)) {
      return;
    }
    int flags = format.flags(last, leafLevel);
    long lastPfn = format.outputPa(last, leafLevel) >>> PhysicalMemory.FRAME_SHIFT;
    if ((flags & PteFlags.CONTIGUOUS) != 0 || (lastPfn & (CONT_PTES - 1)) != CONT_PTES - 1) {
      return;
    }
    long headPfn = lastPfn - (CONT_PTES - 1);
    long blockVa = va & -CONT_PTE_SIZE;
    if (!inOneFolio(headPfn) || !agrees(tablePfn, blockVa, headPfn, flags & ~ACCESS_DIRTY)) {
      return;
    }
    convert(core, mm, tablePfn, blockVa, true);
    machine.stats().addKernelCounter("contpteFolds", 1);
    machine.stats().addKernelCounter("contpteRefolds", 1);
  }

  // the block's frames are still those of the folio setPtes mapped there
  private boolean inOneFolio(long headPfn) {
    Long stamp = folioBlocks.get(headPfn);
    PhysicalMemory memory = machine.memory();
    return stamp != null
        && memory.isAllocated(headPfn)
        && memory.allocationStamp(headPfn) == stamp
        && memory.allocationStamp(headPfn + CONT_PTES - 1) == stamp + CONT_PTES - 1;
  }

  // every PTE valid, mapping consecutive frames from headPfn, with these flags (A/D aside)
  private boolean agrees(long tablePfn, long blockVa, long headPfn, int expectedFlags) {
    int first = format.index(blockVa, leafLevel);
    for (int i = 0; i < CONT_PTES; i++) {
      long d = machine.memory().readDescriptor(tablePfn, first + i);
      if (!format.isValid(d, leafLevel)
          || format.outputPa(d, leafLevel) >>> PhysicalMemory.FRAME_SHIFT != headPfn + i
          || (format.flags(d, leafLevel) & ~ACCESS_DIRTY) != expectedFlags) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code contpte_convert}: break (clear every valid PTE of the block, gathering access and
   * dirty), flush the block's range on every CPU of the mm and wait, make (write them again with or
   * without the contiguous bit, each with the gathered access and dirty state).
   */
  private void convert(int core, Mm mm, long tablePfn, long blockVa, boolean fold) {
    int first = format.index(blockVa, leafLevel);
    // not a field: the flush below is where other cores' kernel calls interleave with this one
    long[] blockEntries = new long[CONT_PTES];
    int accessDirty = 0;
    for (int i = 0; i < CONT_PTES; i++) {
      long d = machine.memory().readDescriptor(tablePfn, first + i);
      blockEntries[i] = format.isValid(d, leafLevel) ? d : 0;
      if (blockEntries[i] != 0) {
        accessDirty |= format.flags(d, leafLevel) & ACCESS_DIRTY;
        tables.clearLeaf(mm.rootPfn(), blockVa + i * PAGE_SIZE, core);
      }
    }
    tlb.flushTlbRange(core, mm, blockVa, blockVa + CONT_PTE_SIZE, PhysicalMemory.FRAME_SHIFT, true);
    for (int i = 0; i < CONT_PTES; i++) {
      long d = blockEntries[i];
      if (d == 0) {
        continue;
      }
      int flags = format.flags(d, leafLevel) | accessDirty;
      flags = fold ? flags | PteFlags.CONTIGUOUS : flags & ~PteFlags.CONTIGUOUS;
      tables.map(
          mm.rootPfn(),
          blockVa + i * PAGE_SIZE,
          format.outputPa(d, leafLevel),
          leafLevel,
          flags,
          core);
    }
  }
}
