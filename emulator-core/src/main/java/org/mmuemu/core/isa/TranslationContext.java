package org.mmuemu.core.isa;

/**
 * The translation registers of one core, in ISA-neutral terms: the user root table, the kernel root
 * table (arm64 TTBR1; unused on x86, whose kernel half hangs off the user root), and the current
 * address-space tag. Mutable, confined to the simulation thread that owns the core.
 */
public final class TranslationContext {
  private long userRootPa;
  private long kernelRootPa;
  private int asid;

  public long userRootPa() {
    return userRootPa;
  }

  public long kernelRootPa() {
    return kernelRootPa;
  }

  /** The current address-space tag (ASID or PCID). */
  public int asid() {
    return asid;
  }

  /** Loads the user root and the tag (arm64 TTBR0 write; x86 MOV CR3). */
  public void setUser(long rootPa, int newAsid) {
    this.userRootPa = rootPa;
    this.asid = newAsid;
  }

  /** Loads the kernel root (arm64 TTBR1 write). */
  public void setKernelRoot(long rootPa) {
    this.kernelRootPa = rootPa;
  }
}
