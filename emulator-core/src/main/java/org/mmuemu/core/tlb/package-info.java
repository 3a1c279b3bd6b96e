/**
 * Set-associative TLBs held in primitive arrays (no object per entry): lookup by VA and
 * address-space tag, fill with the frame's allocation stamp, LRU, tree-PLRU or seeded random
 * replacement, several page sizes per level, and invalidation by range or by address space. The hot
 * path allocates nothing.
 */
package org.mmuemu.core.tlb;
