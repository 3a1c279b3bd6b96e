package org.mmuemu.kernel;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.VmaLocking;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.AnonPages;
import org.mmuemu.kernel.rmap.ReverseMap;

/**
 * The parts of one kernel that the paths changing user page tables share (the fault path, fork):
 * the machine, the costs, the page-table editor, the page cache and both reverse maps, huge pages,
 * the arch TLB policy and user PTE hooks, the processes, the per-VMA locks and the zero pages.
 * Built once by {@link Kernel}.
 */
record MmParts(
    Machine machine,
    KernelCosts costs,
    PageTableEditor tables,
    PageCache pageCache,
    ReverseMap rmap,
    AnonPages anonPages,
    HugePmd hugePmd,
    ArchTlbPolicy tlbPolicy,
    ArchUserPtes userPtes,
    Processes processes,
    VmaLocking vmaLocking,
    ZeroPfns zeroPfns) {}
