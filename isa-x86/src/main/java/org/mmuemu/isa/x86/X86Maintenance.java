package org.mmuemu.isa.x86;

import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.MaintenanceInstructions;

/**
 * x86 invalidation instructions and their costs. INVLPG invalidates one page in the current
 * PCID (and global entries for it); INVPCID types 1, 2 and 3 cover a context, everything, and
 * everything but globals. There is no architectural last-level-only form: every x86
 * invalidation also drops paging-structure-cache entries.
 *
 * @see "Intel SDM Vol. 2A INVLPG, INVPCID; Vol. 3 §4.10.4"
 */
final class X86Maintenance implements MaintenanceInstructions {
  private final long invlpgCycles;
  private final long invpcidContextCycles;
  private final long invpcidAllCycles;

  X86Maintenance(long invlpgCycles, long invpcidContextCycles, long invpcidAllCycles) {
    this.invlpgCycles = invlpgCycles;
    this.invpcidContextCycles = invpcidContextCycles;
    this.invpcidAllCycles = invpcidAllCycles;
  }

  @Override
  public String name(InvalidationScope scope, boolean lastLevelOnly, boolean broadcast) {
    if (broadcast) {
      throw new IllegalArgumentException("x86 has no broadcast invalidation in this configuration");
    }
    return switch (scope) {
      case VA, VA_ALL_ASIDS -> "INVLPG";
      case ASID -> "INVPCID type 1";
      case ALL -> "INVPCID type 2";
      case ALL_NON_GLOBAL -> "INVPCID type 3";
    };
  }

  @Override
  public long issueCycles(InvalidationScope scope, boolean broadcast) {
    return switch (scope) {
      case VA, VA_ALL_ASIDS -> invlpgCycles;
      case ASID -> invpcidContextCycles;
      case ALL, ALL_NON_GLOBAL -> invpcidAllCycles;
    };
  }

  @Override
  public boolean hasBroadcast() {
    return false;
  }

  @Override
  public boolean hasLastLevelOnly() {
    return false;
  }

  @Override
  public InvalidationScope effectiveScope(InvalidationScope requested) {
    return requested == InvalidationScope.VA_ALL_ASIDS ? InvalidationScope.VA : requested;
  }
}
