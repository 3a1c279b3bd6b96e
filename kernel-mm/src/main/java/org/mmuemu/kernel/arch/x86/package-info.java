/**
 * Linux's arch/x86 mm code: the INVLPG/CR3/INVLPGB flush policy with IPI shootdowns and the tlb_gen
 * protocol ({@code X86TlbPolicy}), PCID and global ASID management ({@code X86PcidAllocator}),
 * {@code pmd_free_pte_page} with its 2018 variant ({@code X86KernelMappings}), assembled by {@code
 * X86LinuxArch.create} from {@code X86ArchConfig}.
 */
package org.mmuemu.kernel.arch.x86;
