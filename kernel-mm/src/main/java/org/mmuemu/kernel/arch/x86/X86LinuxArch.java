package org.mmuemu.kernel.arch.x86;

import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.KernelLayout;
import org.mmuemu.kernel.arch.LinuxArch;

/**
 * Linux's arch/x86 as the mm code sees it: {@link X86TlbPolicy} (INVLPG/CR3/INVLPGB flushes,
 * IPI shootdowns, PCID management), the kernel layout, and {@link X86KernelMappings}
 * ({@code pmd_free_pte_page}; kernel PTE stores need no barriers).
 */
public final class X86LinuxArch implements LinuxArch {
  /** THREAD_ALIGN: THREAD_SIZE, 16 KiB. */
  static final long THREAD_ALIGN_BYTES = 16L << 10;

  private final X86TlbPolicy tlb;
  private final X86KernelMappings kernelMappings;
  private final KernelLayout layout;

  public X86LinuxArch(KernelArchContext context, X86ArchConfig config) {
    this.tlb = new X86TlbPolicy(context.machine(), config);
    this.kernelMappings = new X86KernelMappings(context, config, tlb);
    int vaBits = context.machine().isa().regime().vaBits();
    // MODEL: Linux's 4-level layout: VMALLOC_START..VMALLOC_END (32 TiB); user space is the
    // lower half of the one root both halves share.
    this.layout = new KernelLayout(0xffffc90000000000L, 0xffffe90000000000L, THREAD_ALIGN_BYTES,
        1L << (vaBits - 1));
  }

  @Override
  public String isaId() {
    return "x86";
  }

  @Override
  public X86TlbPolicy tlb() {
    return tlb;
  }

  @Override
  public KernelLayout layout() {
    return layout;
  }

  @Override
  public X86KernelMappings kernelMappings() {
    return kernelMappings;
  }
}
