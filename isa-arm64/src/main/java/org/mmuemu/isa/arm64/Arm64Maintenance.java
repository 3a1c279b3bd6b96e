package org.mmuemu.isa.arm64;

import org.mmuemu.core.isa.BarrierKind;
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
  private final long completionBaseCycles;
  private final long completionPerCoreCycles;
  private final long dsbIshCycles;
  private final long dsbIshstCycles;
  private final long dsbNshCycles;
  private final long isbCycles;

  Arm64Maintenance(long tlbiCycles, long tlbiAllCycles, long completionBaseCycles, long completionPerCoreCycles,
      long dsbIshCycles, long dsbIshstCycles, long dsbNshCycles, long isbCycles) {
    this.tlbiCycles = tlbiCycles;
    this.tlbiAllCycles = tlbiAllCycles;
    this.completionBaseCycles = completionBaseCycles;
    this.completionPerCoreCycles = completionPerCoreCycles;
    this.dsbIshCycles = dsbIshCycles;
    this.dsbIshstCycles = dsbIshstCycles;
    this.dsbNshCycles = dsbNshCycles;
    this.isbCycles = isbCycles;
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code // MODEL:} a broadcast TLBI completes a configured base plus a per-core cost
   * after its issue, the same for every operation and every core; real interconnects batch
   * DVM messages and answer at different speeds.
   */
  @Override
  public long broadcastCompletionCycles(int cores) {
    return completionBaseCycles + completionPerCoreCycles * cores;
  }

  @Override
  public String barrierName(BarrierKind kind) {
    return switch (kind) {
      case TABLE_STORES_VISIBLE -> "DSB ISHST";
      case BROADCAST_COMPLETE -> "DSB ISH";
      case LOCAL_COMPLETE -> "DSB NSH";
      case CONTEXT_SYNC -> "ISB";
    };
  }

  @Override
  public long barrierCycles(BarrierKind kind) {
    return switch (kind) {
      case TABLE_STORES_VISIBLE -> dsbIshstCycles;
      case BROADCAST_COMPLETE -> dsbIshCycles;
      case LOCAL_COMPLETE -> dsbNshCycles;
      case CONTEXT_SYNC -> isbCycles;
    };
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
