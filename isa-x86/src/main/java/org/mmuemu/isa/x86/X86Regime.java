package org.mmuemu.isa.x86;

import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.core.isa.TranslationRegime;

/**
 * x86-64 long mode: one root (CR3) for both halves; with CR4.PCIDE the low 12 bits of CR3 tag
 * non-global TLB entries.
 *
 * @see "Intel SDM Vol. 3 §4.10.1 (process-context identifiers)"
 */
final class X86Regime implements TranslationRegime {
  private final int pcidBits;
  private final int vaBits;

  /**
   * @param vaBits 48 for 4-level paging, 57 for 5-level
   */
  X86Regime(int pcidBits, int vaBits) {
    this.pcidBits = pcidBits;
    this.vaBits = vaBits;
  }

  @Override
  public int vaBits() {
    return vaBits;
  }

  @Override
  public int asidBits() {
    return pcidBits;
  }

  @Override
  public boolean sharesWalkCacheEntries(long va) {
    return false;
  }

  @Override
  public long rootPa(long va, TranslationContext context) {
    return context.userRootPa();
  }
}
