/**
 * Linux's mmu_gather ({@code MmuGather}): batched page freeing, range tracking, table freeing,
 * fullmm and delayed rmap, ending in the arch's {@code tlb_flush}; see docs/mm.md.
 */
package org.mmuemu.kernel.gather;
