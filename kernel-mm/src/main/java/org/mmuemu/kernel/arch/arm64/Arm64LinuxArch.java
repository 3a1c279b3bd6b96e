package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.arch.AssembledLinuxArch;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.KernelLayout;
import org.mmuemu.kernel.arch.LinuxArch;

/**
 * Linux's arch/arm64 as the mm code sees it: {@link Arm64TlbPolicy} (TLBI/DSB flushes, the
 * generation ASID allocator), the kernel layout, and {@link Arm64KernelMappings} (kernel PTE
 * barriers, lazy MMU batching, contpte vmap, {@code pmd_free_pte_page}) and {@link UserContpte}
 * (contiguous PTEs for user large folios).
 */
public final class Arm64LinuxArch {
  /** THREAD_ALIGN with vmap stacks: 2 × THREAD_SIZE (16 KiB). */
  static final long THREAD_ALIGN_BYTES = 32L << 10;

  private Arm64LinuxArch() {}

  /** Builds arm64's arch layer from the kernel context and arm64's config part. */
  public static LinuxArch create(KernelArchContext context, Arm64ArchConfig config) {
    Arm64TlbPolicy tlb = new Arm64TlbPolicy(context.machine(), config);
    int vaBits = context.machine().isa().regime().vaBits();
    // MODEL: Linux's 48-bit layout, from MODULES_END to below the vmemmap (approximate); user
    // space is the whole of TTBR0's range.
    KernelLayout layout =
        new KernelLayout(
            0xffff800080000000L, 0xfffffbfff0000000L, THREAD_ALIGN_BYTES, 1L << vaBits);
    ArchUserPtes userPtes =
        config.contpteUser()
            ? new UserContpte(context, config, tlb)
            : ArchUserPtes.basePages(
                context.tables(),
                context.machine().format().levels() - 1,
                context.machine().format().setsAccessedInHardware());
    return new AssembledLinuxArch(
        "arm64", tlb, layout, new Arm64KernelMappings(context, config, tlb), userPtes);
  }
}
