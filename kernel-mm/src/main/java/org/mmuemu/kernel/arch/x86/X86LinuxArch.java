package org.mmuemu.kernel.arch.x86;

import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.arch.AssembledLinuxArch;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.KernelLayout;
import org.mmuemu.kernel.arch.LinuxArch;

/**
 * Linux's arch/x86 as the mm code sees it: {@link X86TlbPolicy} (INVLPG/CR3/INVLPGB flushes, IPI
 * shootdowns, PCID management), the kernel layout, and {@link X86KernelMappings} ({@code
 * pmd_free_pte_page}; kernel PTE stores need no barriers).
 */
public final class X86LinuxArch {
  /** THREAD_ALIGN: THREAD_SIZE, 16 KiB. */
  static final long THREAD_ALIGN_BYTES = 16L << 10;

  private X86LinuxArch() {}

  /** Builds x86's arch layer from the kernel context and x86's config part. */
  public static LinuxArch create(KernelArchContext context, X86ArchConfig config) {
    X86TlbPolicy tlb = new X86TlbPolicy(context.machine(), config);
    int vaBits = context.machine().isa().regime().vaBits();
    // MODEL: Linux's 4-level layout: VMALLOC_START..VMALLOC_END (32 TiB); user space is the
    // lower half of the one root both halves share.
    KernelLayout layout =
        new KernelLayout(
            0xffffc90000000000L, 0xffffe90000000000L, THREAD_ALIGN_BYTES, 1L << (vaBits - 1));
    // x86 has no contiguous bit: a large folio is one PTE per page, one TLB entry per page
    return new AssembledLinuxArch(
        "x86",
        tlb,
        layout,
        new X86KernelMappings(context, config, tlb),
        // x86 keeps the generic arch_wants_old_prefaulted_pte (false): prefaulted PTEs are young
        ArchUserPtes.basePages(context.tables(), context.machine().format().levels() - 1, false));
  }
}
