package org.mmuemu.kernel.arch.x86;

import java.util.function.IntConsumer;
import org.mmuemu.kernel.arch.ArchKernelMappings;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.KernelTableFreeing;

/**
 * x86's part of writing kernel (vmalloc) page tables. Kernel PTE stores need no barrier (the walker
 * sees ordinary stores in order), lazy MMU mode does nothing outside paravirt, and there is no
 * PTE-level huge vmap.
 *
 * <p>{@code pmd_free_pte_page} (DOMAIN.md §5.7): clears the kernel PMD entry that points at the PTE
 * table a 2 MiB mapping replaces and frees that table. Fixed (variant {@code
 * x86FreePteTableFlush=flush}, the default): between the two, {@code flush_tlb_kernel_range} of one
 * page, whose INVLPG on every CPU drops the paging-structure caches. Buggy ({@code noFlush}, before
 * 2018): the table is freed while another CPU's PDE cache may still point at it, so a later walk
 * there reads a freed table ({@code FREED_TABLE_WALK}).
 */
public final class X86KernelMappings implements ArchKernelMappings {
  private final X86TlbPolicy tlb;
  private final KernelTableFreeing tableFreeing;
  private final boolean flushBeforeFree;
  private long publishes;

  X86KernelMappings(KernelArchContext context, X86ArchConfig config, X86TlbPolicy tlb) {
    this.tlb = tlb;
    this.tableFreeing =
        new KernelTableFreeing(context, config.pteWriteCycles(), config.pageFreeCycles());
    this.flushBeforeFree = config.flushBeforeFreeingPteTable();
  }

  @Override
  public void enterLazyMmu(int core) {}

  @Override
  public void leaveLazyMmu(int core) {}

  /** The store itself publishes the entry: counted, nothing issued. */
  @Override
  public void setKernelPte(int core) {
    publishes++;
  }

  @Override
  public long kernelPtePublishes() {
    return publishes;
  }

  @Override
  public long vmapPteBlockBytes(long sizeBytes) {
    return 0;
  }

  @Override
  public void setHugeVmapPte(int core, long va, long pa, long blockBytes, int flags) {
    throw new UnsupportedOperationException("x86 has no PTE-level huge vmap");
  }

  @Override
  public boolean pmdFreePteTable(int core, long va, IntConsumer cleared) {
    long tablePfn = tableFreeing.unhookPteTable(core, va);
    if (tablePfn < 0) {
      return false;
    }
    if (flushBeforeFree) {
      tlb.flushTlbKernelRange(core, va, va + 4096);
    }
    cleared.accept(core);
    tableFreeing.free(core, tablePfn);
    return true;
  }
}
