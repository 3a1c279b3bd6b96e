package org.mmuemu.isa.arm64;

import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.MaintenanceInstructions;

/**
 * AArch64 TLBI names and issue costs. The inner-shareable ({@code IS}) forms are broadcast; the
 * {@code L} forms are last-level only (walk-cache entries stay); the {@code R} forms
 * (FEAT_TLBIRANGE, when configured) cover a range of pages with one instruction and cost what a
 * by-VA TLBI costs.
 *
 * <p>What each form removes ({@code Machine} applies it to TLBs and walk caches):
 *
 * <ul>
 *   <li>{@code VAE1}/{@code VALE1}: the VA's entries of the given ASID, and global entries of that
 *       VA;
 *   <li>{@code VAAE1}/{@code VAALE1}: the VA's entries of every ASID, global ones included;
 *   <li>{@code ASIDE1}: every non-global entry of the ASID (global entries stay);
 *   <li>{@code VMALLE1}: every entry, global ones included.
 * </ul>
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
  private final boolean tlbiRange;
  private final long broadcastIntervalCycles;

  Arm64Maintenance(
      boolean tlbiRange,
      long broadcastIntervalCycles,
      long tlbiCycles,
      long tlbiAllCycles,
      long completionBaseCycles,
      long completionPerCoreCycles,
      long dsbIshCycles,
      long dsbIshstCycles,
      long dsbNshCycles,
      long isbCycles) {
    this.tlbiCycles = tlbiCycles;
    this.tlbiAllCycles = tlbiAllCycles;
    this.completionBaseCycles = completionBaseCycles;
    this.completionPerCoreCycles = completionPerCoreCycles;
    this.dsbIshCycles = dsbIshCycles;
    this.dsbIshstCycles = dsbIshstCycles;
    this.dsbNshCycles = dsbNshCycles;
    this.isbCycles = isbCycles;
    this.tlbiRange = tlbiRange;
    this.broadcastIntervalCycles = broadcastIntervalCycles;
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code // MODEL:} the DVM messages of IS TLBIs from every core pass through the interconnect
   * one at a time, this many cycles apart (config {@code dvmIntervalCycles}).
   */
  @Override
  public long broadcastIntervalCycles() {
    return broadcastIntervalCycles;
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code // MODEL:} a broadcast TLBI completes a configured base plus a per-core cost after
   * its issue, the same for every operation and every core; real interconnects batch DVM messages
   * and answer at different speeds.
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
      case LOCAL_TABLE_STORES_VISIBLE -> "DSB NSHST";
      case LOCAL_COMPLETE -> "DSB NSH";
      case CONTEXT_SYNC -> "ISB";
    };
  }

  @Override
  public long barrierCycles(BarrierKind kind) {
    return switch (kind) {
      case TABLE_STORES_VISIBLE -> dsbIshstCycles;
      case BROADCAST_COMPLETE -> dsbIshCycles;
      // MODEL: DSB NSHST is priced as DSB NSH (no published difference; both stay on the core).
      case LOCAL_TABLE_STORES_VISIBLE, LOCAL_COMPLETE -> dsbNshCycles;
      case CONTEXT_SYNC -> isbCycles;
    };
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code TLBI VAE1}, {@code VALE1}, {@code VAAE1}, {@code VAALE1}, {@code ASIDE1}, {@code
   * VMALLE1}, with {@code IS} for broadcast; with FEAT_TLBIRANGE the range forms {@code TLBI
   * RVAE1}, {@code RVALE1}, {@code RVAAE1}, {@code RVAALE1} and their {@code IS} forms.
   */
  @Override
  public String name(Invalidation op, boolean currentTag) {
    String last = op.lastLevelOnly() ? "L" : "";
    String base =
        switch (op.scope()) {
          case VA -> "VA" + last + "E1";
          case VA_ALL_ASIDS -> "VAA" + last + "E1";
          case ASID -> "ASIDE1";
          case ALL_NON_GLOBAL, ALL -> "VMALLE1";
        };
    return "TLBI " + (op.range() ? "R" : "") + base + (op.broadcast() ? "IS" : "");
  }

  /** Every form exists; the range forms only with FEAT_TLBIRANGE. */
  @Override
  public boolean supports(Invalidation op, boolean currentTag) {
    return !op.range() || tlbiRange;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The range must be page aligned and {@code (NUM + 1) * 2^(5 * SCALE + 1)} pages long for some
   * SCALE 0-3 and NUM 0-31 ({@link Arm64TlbiOperands}), and its start must fit BADDR: the machine
   * encodes the operand and applies the range it decodes. {@code // MODEL:} the stride is Linux's
   * TTL hint, which this model does not use to narrow the invalidation.
   */
  @Override
  public boolean isEncodable(Invalidation op, long vaStart, long vaEnd) {
    if (!op.range()) {
      return true;
    }
    if (!tlbiRange || ((vaStart | vaEnd) & 0xFFF) != 0) {
      return false;
    }
    int scaleNum = Arm64TlbiOperands.scaleNumFor((vaEnd - vaStart) >>> 12);
    if (scaleNum < 0) {
      return false;
    }
    long operand = Arm64TlbiOperands.encodeRange(0, scaleNum >>> 5, scaleNum & 31, 0, vaStart);
    return Arm64TlbiOperands.rangeStartVa(operand) == vaStart
        && Arm64TlbiOperands.rangeEndVa(operand) == vaEnd;
  }

  /** A range TLBI costs what a by-VA TLBI costs. */
  @Override
  public long issueCycles(Invalidation op, boolean currentTag) {
    return op.scope().byVa() ? tlbiCycles : tlbiAllCycles;
  }

  @Override
  public boolean hasBroadcast() {
    return true;
  }

  @Override
  public InvalidationScope effectiveScope(Invalidation op) {
    // VMALLE1 has no form that spares global (TTBR1) entries.
    return op.scope() == InvalidationScope.ALL_NON_GLOBAL ? InvalidationScope.ALL : op.scope();
  }
}
