/**
 * Linux's arch layer as one interface: {@code LinuxArch} gives the TLB flush policy ({@code
 * ArchTlbPolicy}, with ASID/PCID allocation), the kernel address layout ({@code KernelLayout}) and
 * the arch side of kernel page-table writes ({@code ArchKernelMappings}: PTE publish barriers, lazy
 * MMU mode, PTE-level huge vmap, {@code pmd_free_pte_page}). Built from a narrow {@code
 * KernelArchContext}; generic kernel code reaches arch behaviour only through it.
 */
package org.mmuemu.kernel.arch;
