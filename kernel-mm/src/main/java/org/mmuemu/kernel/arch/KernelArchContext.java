package org.mmuemu.kernel.arch;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * What an architecture's kernel code is built from: the machine, the kernel's page-table editor and
 * the kernel's root table (init_mm's pgd; arm64 TTBR1). Deliberately narrow: the arch layer never
 * sees the generic kernel that uses it. Its own typed config part is passed beside this.
 *
 * @param kernelRootPfn frame of the kernel's root table, already installed in every core
 * @param ptdumpLock what keeps a software walk of the kernel tables and a table free apart
 */
public record KernelArchContext(
    Machine machine, PageTableEditor tables, long kernelRootPfn, PtdumpLock ptdumpLock) {}
