package org.mmuemu.kernel.vmalloc;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.mm.PageTableEditor;

/**
 * What vmalloc is built from: the machine, the kernel's page tables, and the arch layer. Not the
 * kernel itself: vmalloc knows processes only through {@code syncTopLevel}.
 *
 * @param kernelRootPfn frame of the kernel's root table
 * @param syncTopLevel where every process root carries the kernel's top-level entries (x86: one CR3
 *     for both halves), copies them into every process root ({@code sync_global_pgds}); null where
 *     the kernel has a root of its own (arm64 TTBR1)
 */
public record VmallocContext(
    Machine machine,
    PageTableEditor tables,
    long kernelRootPfn,
    LinuxArch arch,
    Runnable syncTopLevel) {}
