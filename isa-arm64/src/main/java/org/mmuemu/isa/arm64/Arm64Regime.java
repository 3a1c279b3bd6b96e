package org.mmuemu.isa.arm64;

import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.core.isa.TranslationRegime;

/**
 * The EL1&0 translation regime: VAs whose top bits are all zero translate through TTBR0 (user,
 * entries tagged with the ASID unless global), all ones through TTBR1 (kernel).
 *
 * @see "Arm ARM D8.1 (VMSAv8-64 address translation)"
 */
final class Arm64Regime implements TranslationRegime {
  private final int vaBits;
  private final int asidBits;

  Arm64Regime(int vaBits, int asidBits) {
    this.vaBits = vaBits;
    this.asidBits = asidBits;
  }

  @Override
  public int vaBits() {
    return vaBits;
  }

  @Override
  public int asidBits() {
    return asidBits;
  }

  @Override
  public long rootPa(long va, TranslationContext context) {
    return va < 0 ? context.kernelRootPa() : context.userRootPa();
  }
}
