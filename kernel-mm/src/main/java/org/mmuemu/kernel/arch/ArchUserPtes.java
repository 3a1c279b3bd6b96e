package org.mmuemu.kernel.arch;

import org.mmuemu.kernel.mm.Mm;

/**
 * An architecture's part in writing user PTEs that map large folios: Linux's {@code set_ptes} and
 * the hooks arm64 puts inside its PTE accessors for contiguous PTEs ({@code CONFIG_ARM64_CONTPTE},
 * arch/arm64/mm/contpte.c). On an architecture without a contiguous bit each PTE is written on its
 * own and the hooks do nothing.
 *
 * <p>Generic code calls {@link #setPtes} to map a whole new folio, {@link #unfold} before changing
 * one PTE, {@link #unfoldPartial} before changing a range of PTEs, and {@link #tryFold} after
 * writing one PTE. Every call is made with the PTE table's lock held. Confined to the simulation
 * thread.
 */
public interface ArchUserPtes {

  /**
   * Maps {@code pages} consecutive pages of one folio, from {@code pa} at {@code va}, into {@code
   * mm}'s page tables; every PTE of the range is none ({@code set_ptes} with {@code nr > 1}).
   *
   * @param flags {@link org.mmuemu.core.isa.PteFlags} of every PTE
   */
  void setPtes(int core, Mm mm, long va, long pa, int pages, int flags);

  /**
   * Before one PTE at {@code va} changes ({@code contpte_try_unfold}): a contiguous block holding
   * it is rewritten as separate PTEs first.
   */
  void unfold(int core, Mm mm, long va);

  /**
   * Before the PTEs of {@code [startVa, endVa)} change together ({@code
   * contpte_try_unfold_partial}): the blocks the range covers only in part, at either end, are
   * unfolded; blocks it covers whole stay contiguous.
   */
  void unfoldPartial(int core, Mm mm, long startVa, long endVa);

  /**
   * After the single PTE at {@code va} was written ({@code contpte_try_fold}): when it completes a
   * block of one folio whose PTEs agree, the block is folded into one contiguous mapping.
   */
  void tryFold(int core, Mm mm, long va);

  /**
   * Whether the PTEs fault-around maps ahead of use (the pages around a read fault) are written old
   * (Linux {@code arch_wants_old_prefaulted_pte}): arm64 does this where the CPU sets the access
   * flag in hardware, so a page mapped ahead and never used looks unreferenced to reclaim and its
   * first use costs only the walk's flag update; elsewhere they are written young, as the faulting
   * page is.
   */
  boolean wantsOldPrefaultedPtes();

  /**
   * Each PTE written on its own: the hooks of an architecture without contiguous PTEs.
   *
   * @param oldPrefaulted {@link #wantsOldPrefaultedPtes}
   */
  static ArchUserPtes basePages(
      org.mmuemu.kernel.mm.PageTableEditor tables, int leafLevel, boolean oldPrefaulted) {
    return new ArchUserPtes() {
      @Override
      public boolean wantsOldPrefaultedPtes() {
        return oldPrefaulted;
      }

      @Override
      public void setPtes(int core, Mm mm, long va, long pa, int pages, int flags) {
        for (int i = 0; i < pages; i++) {
          long offset = (long) i << org.mmuemu.core.mem.PhysicalMemory.FRAME_SHIFT;
          tables.map(mm.rootPfn(), va + offset, pa + offset, leafLevel, flags, core);
        }
      }

      @Override
      public void unfold(int core, Mm mm, long va) {}

      @Override
      public void unfoldPartial(int core, Mm mm, long startVa, long endVa) {}

      @Override
      public void tryFold(int core, Mm mm, long va) {}
    };
  }
}
