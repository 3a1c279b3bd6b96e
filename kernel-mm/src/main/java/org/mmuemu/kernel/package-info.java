/**
 * The kernel model of one run: {@code Kernel} boots it (the kernel root table, the arch layer, the
 * fault handler) and is what workloads call; {@code Processes} (lifecycle, mmap, context switches),
 * {@code PageFaults} (the fault path) and {@code Teardown} (munmap, madvise, exit_mmap and the OOM
 * reaper through mmu_gather) do the work, split as Linux splits it.
 */
package org.mmuemu.kernel;
