/**
 * The kernel's checks of its own promises, beside the machine's oracle: {@code RangeFlushOracle}
 * (after munmap/madvise no core translates the range) and {@code AliasOracle} (after a kernel range
 * flush or vm_unmap_aliases no TLB keeps a cleared vmalloc translation), both reported as {@code
 * UNFLUSHED_ALIAS}.
 */
package org.mmuemu.kernel.oracle;
