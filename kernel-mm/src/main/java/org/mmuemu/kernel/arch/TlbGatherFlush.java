package org.mmuemu.kernel.arch;

/**
 * What an mmu_gather asks its arch {@code tlb_flush} to invalidate (the fields of Linux's {@code
 * struct mmu_gather} that {@code tlb_flush} reads).
 *
 * @param fullmm the whole address space is being torn down ({@code tlb->fullmm})
 * @param needFlushAll the arch wants a whole-mm flush regardless of the range ({@code
 *     need_flush_all})
 * @param freedTables page-table pages were freed, so walk caches must go too ({@code freed_tables})
 * @param startVa first byte of the accumulated range ({@code tlb->start})
 * @param endVa end of the accumulated range, exclusive, 0 when nothing was recorded ({@code
 *     tlb->end})
 * @param strideShift log2 of the smallest level whose entries were cleared ({@code
 *     tlb_get_unmap_shift})
 */
public record TlbGatherFlush(
    boolean fullmm,
    boolean needFlushAll,
    boolean freedTables,
    long startVa,
    long endVa,
    int strideShift) {}
