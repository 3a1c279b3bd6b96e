/**
 * Linux's arch/arm64 mm code: TLBI/DSB flush policy ({@code Arm64TlbPolicy}), the generation ASID
 * allocator ({@code Arm64AsidAllocator}), kernel PTE barriers with lazy-MMU batching and contpte
 * vmap ({@code Arm64KernelMappings}), contiguous PTEs for user large folios ({@code UserContpte}:
 * fold and unfold), assembled by {@code Arm64LinuxArch.create} from its own config part ({@code
 * Arm64ArchConfig}).
 */
package org.mmuemu.kernel.arch.arm64;
