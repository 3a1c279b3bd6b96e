package org.mmuemu.kernel.arch;

/**
 * Where an architecture puts things in the virtual address space (Linux's {@code
 * arch/<isa>/include/asm/pgtable*.h}, {@code page_*.h}, {@code thread_info.h}).
 *
 * @param vmallocStartVa first byte of the vmalloc range ({@code VMALLOC_START})
 * @param vmallocEndVa end of the vmalloc range, exclusive ({@code VMALLOC_END})
 * @param threadAlignBytes alignment of a kernel (vmap) stack ({@code THREAD_ALIGN})
 * @param userSpaceEndVa end of user space, exclusive ({@code TASK_SIZE}): the lower half where one
 *     root serves both halves (x86), the whole of TTBR0's range where the kernel has its own
 *     (arm64)
 */
public record KernelLayout(
    long vmallocStartVa, long vmallocEndVa, long threadAlignBytes, long userSpaceEndVa) {}
