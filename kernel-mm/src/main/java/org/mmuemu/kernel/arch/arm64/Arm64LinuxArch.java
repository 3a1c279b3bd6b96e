package org.mmuemu.kernel.arch.arm64;

import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.KernelLayout;
import org.mmuemu.kernel.arch.LinuxArch;

/**
 * Linux's arch/arm64 as the mm code sees it: {@link Arm64TlbPolicy} (TLBI/DSB flushes, the
 * generation ASID allocator), the kernel layout, and {@link Arm64KernelMappings} (kernel PTE
 * barriers, lazy MMU batching, contpte vmap, {@code pmd_free_pte_page}).
 */
public final class Arm64LinuxArch implements LinuxArch {
  /** THREAD_ALIGN with vmap stacks: 2 × THREAD_SIZE (16 KiB). */
  static final long THREAD_ALIGN_BYTES = 32L << 10;

  private final Arm64TlbPolicy tlb;
  private final Arm64KernelMappings kernelMappings;
  private final KernelLayout layout;

  public Arm64LinuxArch(KernelArchContext context, Arm64ArchConfig config) {
    this.tlb = new Arm64TlbPolicy(context.machine(), config);
    this.kernelMappings = new Arm64KernelMappings(context, config, tlb);
    int vaBits = context.machine().isa().regime().vaBits();
    // MODEL: Linux's 48-bit layout, from MODULES_END to below the vmemmap (approximate); user
    // space is the whole of TTBR0's range.
    this.layout = new KernelLayout(0xffff800080000000L, 0xfffffbfff0000000L, THREAD_ALIGN_BYTES, 1L << vaBits);
  }

  @Override
  public String isaId() {
    return "arm64";
  }

  @Override
  public Arm64TlbPolicy tlb() {
    return tlb;
  }

  @Override
  public KernelLayout layout() {
    return layout;
  }

  @Override
  public Arm64KernelMappings kernelMappings() {
    return kernelMappings;
  }
}
