package org.mmuemu.kernel.arch.arm64;

import java.util.function.IntConsumer;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchKernelMappings;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.KernelTableFreeing;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * arm64's part of writing kernel (vmalloc) page tables (DOMAIN.md §4.5):
 *
 * <ul>
 *   <li>each valid kernel entry store ({@code set_pte} on init_mm) is followed by {@code DSB ISHST;
 *       ISB} ({@code emit_pte_barriers}); with the {@code lazyMmuBarrierBatching} variant on,
 *       inside lazy MMU mode (one {@code vmap_pte_range}, that is one PTE table) the pair is issued
 *       once when the mode is left ("arm64/mm: Batch barriers when updating kernel mappings",
 *       2025);
 *   <li>with the {@code vmapContpte} variant on ("arm64/mm: Support huge pte-mapped pages in vmap",
 *       v6.16), {@code vmalloc_huge} sizes from 64 KiB map 64 KiB blocks as 16 contiguous-bit PTEs
 *       ({@code arch_vmap_pte_supported_shift}, {@code set_huge_pte_at}): one barrier pair per
 *       block and one TLB entry; counter {@code vmapContpteBlocks};
 *   <li>{@code pmd_free_pte_page}: {@code pmd_clear}, {@code __flush_tlb_kernel_pgtable} (a
 *       non-last-level {@code TLBI VAAE1IS}, so walk caches drop the table), then the free.
 * </ul>
 *
 * <p>Kernel mappings are global and never folded or unfolded afterwards, as in Linux. Confined to
 * the simulation thread.
 */
public final class Arm64KernelMappings implements ArchKernelMappings {
  /** CONT_PTES with the 4 KiB granule. */
  public static final int CONT_PTES = 16;

  /** CONT_PTE_SIZE: 64 KiB. */
  public static final long CONT_PTE_SIZE = (long) CONT_PTES << PhysicalMemory.FRAME_SHIFT;

  private static final long PAGE_SIZE = 1L << PhysicalMemory.FRAME_SHIFT;

  private final KernelArchContext context;
  private final Machine machine;
  private final Arm64TlbPolicy tlb;
  private final KernelTableFreeing tableFreeing;
  private final boolean contpte;
  private final boolean batchBarriers;
  private final boolean[] inLazyMmu;
  private final boolean[] barriersPending;
  private long publishes;

  Arm64KernelMappings(KernelArchContext context, Arm64ArchConfig config, Arm64TlbPolicy tlb) {
    this.context = context;
    this.machine = context.machine();
    this.tlb = tlb;
    this.tableFreeing =
        new KernelTableFreeing(context, config.pteWriteCycles(), config.pageFreeCycles());
    this.contpte = config.contpteVmap();
    this.batchBarriers = config.lazyMmuBarrierBatching();
    this.inLazyMmu = new boolean[machine.coreCount()];
    this.barriersPending = new boolean[machine.coreCount()];
  }

  @Override
  public void enterLazyMmu(int core) {
    inLazyMmu[core] = true;
  }

  @Override
  public void leaveLazyMmu(int core) {
    inLazyMmu[core] = false;
    if (barriersPending[core]) {
      barriersPending[core] = false;
      emitPteBarriers(core);
    }
  }

  @Override
  public void setKernelPte(int core) {
    if (batchBarriers && inLazyMmu[core]) {
      barriersPending[core] = true;
      return;
    }
    emitPteBarriers(core);
  }

  @Override
  public long kernelPtePublishes() {
    return publishes;
  }

  private void emitPteBarriers(int core) {
    publishes++;
    machine.barrier(core, BarrierKind.TABLE_STORES_VISIBLE);
    machine.barrier(core, BarrierKind.CONTEXT_SYNC);
  }

  @Override
  public long vmapPteBlockBytes(long sizeBytes) {
    return contpte && sizeBytes >= CONT_PTE_SIZE ? CONT_PTE_SIZE : 0;
  }

  /** Writes the 16 entries of the block with the contiguous bit, then publishes them once. */
  @Override
  public void setHugeVmapPte(int core, long va, long pa, long blockBytes, int flags) {
    for (long offset = 0; offset < blockBytes; offset += CONT_PTE_SIZE) {
      writeContiguousBlock(
          context.tables(), context.kernelRootPfn(), va + offset, pa + offset, flags, core);
    }
    machine.stats().addKernelCounter("vmapContpteBlocks", 1);
    setKernelPte(core);
  }

  /**
   * Writes the {@link #CONT_PTES} last-level entries of one aligned block from {@code va} to the
   * frames from {@code pa}, each with the contiguous bit ({@code __set_ptes} of a contpte block).
   * The caller makes sure every entry was invalid before and publishes or flushes.
   */
  static void writeContiguousBlock(
      PageTableEditor tables, long rootPfn, long va, long pa, int flags, int core) {
    int leafLevel = tables.format().levels() - 1;
    for (long offset = 0; offset < CONT_PTE_SIZE; offset += PAGE_SIZE) {
      tables.map(rootPfn, va + offset, pa + offset, leafLevel, flags | PteFlags.CONTIGUOUS, core);
    }
  }

  @Override
  public boolean pmdFreePteTable(int core, long va, IntConsumer cleared) {
    long tablePfn = tableFreeing.unhookPteTable(core, va);
    if (tablePfn < 0) {
      return false;
    }
    tlb.flushTlbKernelPgtable(core, va);
    cleared.accept(core);
    tableFreeing.free(core, tablePfn);
    return true;
  }
}
