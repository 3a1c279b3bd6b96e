package org.mmuemu.kernel.arch;

/**
 * Everything Linux keeps under {@code arch/<isa>/} that the modelled mm code needs: the TLB flush
 * policy with its ASID/PCID allocation ({@link #tlb()}), the kernel's virtual-address layout
 * ({@link #layout()}), and the arch side of kernel page-table writes: PTE publish barriers, lazy
 * MMU mode, PTE-level huge vmap and {@code pmd_free_pte_page} ({@link #kernelMappings()}).
 *
 * <p>One implementation per ISA, in {@code kernel.arch.<isa>}, built from a narrow {@link
 * KernelArchContext} and its own typed config part by {@code
 * org.mmuemu.kernel.arch.registry.LinuxArchRegistry}. Generic kernel code reaches arch behaviour
 * only through this interface and never asks which ISA it runs on.
 */
public interface LinuxArch {

  /** The ISA id this arch layer serves ({@code arm64}, {@code x86}). */
  String isaId();

  /** The TLB flush policy, including switch_mm and ASID/PCID allocation. */
  ArchTlbPolicy tlb();

  /** Where the vmalloc range, kernel stacks and user space lie. */
  KernelLayout layout();

  /** The arch side of writing kernel page tables. */
  ArchKernelMappings kernelMappings();

  /** The arch side of writing user PTEs of large folios (arm64 contiguous PTEs). */
  ArchUserPtes userPtes();
}
