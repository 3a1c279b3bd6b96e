package org.mmuemu.kernel.arch;

import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.arm64.Arm64TlbPolicy;
import org.mmuemu.kernel.arch.x86.X86TlbPolicy;

/** Chooses Linux's TLB policy by the machine's ISA id (a closed set, as in Linux's arch/ tree). */
public final class ArchTlbPolicies {
  private ArchTlbPolicies() {}

  /**
   * @throws IllegalArgumentException for an ISA Linux's policy is not modelled for
   */
  public static ArchTlbPolicy forKernel(Kernel kernel) {
    String isa = kernel.machine().isa().id();
    return switch (isa) {
      case "arm64" -> new Arm64TlbPolicy(kernel);
      case "x86" -> new X86TlbPolicy(kernel);
      default -> throw new IllegalArgumentException("isa: " + isa
          + " (expected one with a modelled Linux TLB policy: arm64, x86)");
    };
  }
}
