/**
 * Automatic NUMA balancing ({@code NumaBalancing}): {@code task_numa_work} making PTEs PROT_NONE
 * through mmu_gather, the NUMA hinting faults that restore or migrate the pages, and the 6.4 PID
 * filter of scanned VMAs; see docs/faults.md.
 */
package org.mmuemu.kernel.numa;
