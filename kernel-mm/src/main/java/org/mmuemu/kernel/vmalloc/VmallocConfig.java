package org.mmuemu.kernel.vmalloc;

import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.config.KernelVariants;

/**
 * The part of the kernel config vmalloc reads: its costs (see {@link KernelCosts}) and its
 * variants.
 *
 * @param racyLazyPublish variant {@code lazyFreePublishOrder=racy}
 * @param freeListAliasWalk variant {@code vmUnmapAliasesWalk=free-list}
 * @param vmapNodes variant {@code vmapNodes=on}
 * @param eagerVunmapFlush variant {@code vunmapFlush=eager}
 */
public record VmallocConfig(
    long lockCycles,
    long vmapNodeVisitCycles,
    long vmapAreaObjectCycles,
    long vmapBlockCycles,
    long pageAllocCycles,
    long pageZeroCycles,
    long pageFreeCycles,
    long pteWriteCycles,
    long rcuGracePeriodCycles,
    long pcpuAllocCycles,
    boolean racyLazyPublish,
    boolean freeListAliasWalk,
    boolean vmapNodes,
    boolean eagerVunmapFlush) {

  /** Takes vmalloc's part of {@code config}. */
  public static VmallocConfig from(KernelConfig config) {
    KernelCosts c = config.costs();
    KernelVariants v = config.variants();
    return new VmallocConfig(
        c.lockCycles(),
        c.vmapNodeVisitCycles(),
        c.vmapAreaObjectCycles(),
        c.vmapBlockCycles(),
        c.pageAllocCycles(),
        c.pageZeroCycles(),
        c.pageFreeCycles(),
        c.pteWriteCycles(),
        c.rcuGracePeriodCycles(),
        c.pcpuAllocCycles(),
        v.lazyFreePublishOrder() == KernelVariants.LazyFreePublishOrder.RACY,
        v.vmUnmapAliasesWalk() == KernelVariants.UnmapAliasesWalk.FREE_LIST,
        v.vmapNodes().on(),
        v.vunmapFlush() == KernelVariants.VunmapFlush.EAGER);
  }
}
