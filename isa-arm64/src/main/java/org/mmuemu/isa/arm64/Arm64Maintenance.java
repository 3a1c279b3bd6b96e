package org.mmuemu.isa.arm64;

import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.MaintenanceInstructions;

/**
 * AArch64 TLBI names and issue costs. The inner-shareable ({@code IS}) forms are broadcast;
 * the {@code L} forms are last-level only.
 *
 * @see "Arm ARM C5.5 (A64 TLB maintenance instructions)"
 */
final class Arm64Maintenance implements MaintenanceInstructions {
  private final long tlbiCycles;
  private final long tlbiAllCycles;

  Arm64Maintenance(long tlbiCycles, long tlbiAllCycles) {
    this.tlbiCycles = tlbiCycles;
    this.tlbiAllCycles = tlbiAllCycles;
  }

  @Override
  public String name(InvalidationScope scope, boolean lastLevelOnly, boolean broadcast) {
    String last = lastLevelOnly ? "L" : "";
    String base = switch (scope) {
      case VA -> "TLBI VA" + last + "E1";
      case VA_ALL_ASIDS -> "TLBI VAA" + last + "E1";
      case ASID -> "TLBI ASIDE1";
      case ALL_NON_GLOBAL, ALL -> "TLBI VMALLE1";
    };
    return broadcast ? base + "IS" : base;
  }

  @Override
  public long issueCycles(InvalidationScope scope, boolean broadcast) {
    return scope == InvalidationScope.VA || scope == InvalidationScope.VA_ALL_ASIDS ? tlbiCycles : tlbiAllCycles;
  }

  @Override
  public boolean hasBroadcast() {
    return true;
  }

  @Override
  public InvalidationScope effectiveScope(InvalidationScope requested) {
    // VMALLE1 has no form that spares global (TTBR1) entries.
    return requested == InvalidationScope.ALL_NON_GLOBAL ? InvalidationScope.ALL : requested;
  }
}
