package org.mmuemu.kernel.arch;

import java.util.function.IntConsumer;

/**
 * An architecture's part in writing kernel (vmalloc) page tables: the barriers that publish a
 * kernel PTE store to the walkers, lazy MMU mode, the PTE-level huge vmap ({@code
 * arch_vmap_pte_supported_shift}, {@code set_huge_pte_at} for vmap), and freeing a page table that
 * a huge mapping replaces ({@code pmd_free_pte_page}).
 *
 * <p>Generic vmalloc writes the entries and calls these hooks at Linux's points; it never asks
 * which ISA it runs on. Confined to the simulation thread.
 */
public interface ArchKernelMappings {

  /** Enters lazy MMU mode for one PTE table's run of writes ({@code arch_enter_lazy_mmu_mode}). */
  void enterLazyMmu(int core);

  /**
   * Leaves lazy MMU mode: whatever publishing was deferred happens now ({@code
   * arch_leave_lazy_mmu_mode}).
   */
  void leaveLazyMmu(int core);

  /**
   * A valid kernel entry was just stored ({@code set_pte} / {@code set_pmd} on init_mm): make it
   * visible to every walker before it is used, now or, in lazy MMU mode, when the mode is left.
   */
  void setKernelPte(int core);

  /**
   * How many times kernel entry stores were published to the walkers (the counter {@code
   * vmapPteSyncs}).
   */
  long kernelPtePublishes();

  /**
   * The size of one PTE-level huge vmap block for a {@code vmalloc_huge} of {@code sizeBytes}
   * ({@code arch_vmap_pte_supported_shift}), or 0 when the arch maps such sizes with pages.
   */
  long vmapPteBlockBytes(long sizeBytes);

  /**
   * Maps one PTE-level huge block of {@link #vmapPteBlockBytes} bytes from {@code va} to the
   * contiguous frames from {@code pa} ({@code set_huge_pte_at} for vmap), publishing it once.
   *
   * @param flags the leaf flags generic vmalloc uses for kernel pages
   */
  void setHugeVmapPte(int core, long va, long pa, long blockBytes, int flags);

  /**
   * {@code pmd_free_pte_page}: before a huge mapping is installed at the PMD covering {@code va},
   * unhooks the (empty) PTE table a small mapping left there, makes sure no walk cache can still
   * reach it, and frees it.
   *
   * @param cleared called with the core once the entry is cleared (and flushed) and before the
   *     table is freed: the preemption point {@code pmd_free_pte_page:cleared}
   * @return whether a table was there and was freed
   */
  boolean pmdFreePteTable(int core, long va, IntConsumer cleared);
}
