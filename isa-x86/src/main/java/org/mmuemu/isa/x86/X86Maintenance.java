package org.mmuemu.isa.x86;

import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.MaintenanceInstructions;

/**
 * x86 TLB maintenance: the instruction each neutral request becomes, what it removes, and its cost
 * (Intel SDM Vol. 3 §4.10.4.1; Vol. 2A INVLPG, INVPCID; AMD APM Vol. 3 INVLPGB, TLBSYNC).
 *
 * <ul>
 *   <li>{@code INVLPG}: the page in the current PCID, global entries for it, and every
 *       paging-structure-cache entry of the current PCID whatever its address.
 *   <li>{@code INVPCID type 0}: one page in a named PCID (not the current one: that is INVLPG's
 *       job), global entries kept, every paging-structure-cache entry of that PCID.
 *   <li>{@code INVPCID type 1}: every non-global entry of one PCID and its paging-structure caches;
 *       {@code type 2}: everything, globals included; {@code type 3}: everything but globals.
 *   <li>{@code CR4.PGE toggle}: everything, globals included; what a CPU without INVPCID uses to
 *       flush globals (so every ALL request becomes it when {@code invpcid} is off).
 *   <li>{@code MOV CR3}: loads CR3 and removes the new PCID's non-global entries and its
 *       paging-structure caches; {@code MOV CR3 NOFLUSH} (bit 63 set, PCIDs only) keeps them.
 *   <li>{@code INVLPGB} (when enabled, AMD Zen 3 and later): broadcast to every core; by VA (in one
 *       PCID or all), by PCID, all non-global, or all; its final-translation-only form keeps the
 *       paging-structure caches. {@code TLBSYNC} waits for this core's INVLPGBs to complete
 *       everywhere.
 * </ul>
 *
 * <p>There is no local last-level-only form: every local x86 invalidation also drops
 * paging-structure-cache entries. Immutable.
 */
final class X86Maintenance implements MaintenanceInstructions {
  /** Costs in cycles, one per instruction form. */
  record Costs(
      long invlpg,
      long invpcidAddress,
      long invpcidContext,
      long invpcidAll,
      long cr4PgeToggle,
      long movCr3,
      long movCr3Noflush,
      long invlpgb,
      long tlbsync,
      long invlpgbCompletion) {}

  private final boolean pcid;
  private final boolean invpcid;
  private final boolean invlpgb;
  private final int invlpgbMaxPages;
  private final Costs costs;

  X86Maintenance(boolean pcid, boolean invpcid, boolean invlpgb, int invlpgbMaxPages, Costs costs) {
    this.invlpgbMaxPages = invlpgbMaxPages;
    this.pcid = pcid;
    this.invpcid = invpcid;
    this.invlpgb = invlpgb;
    this.costs = costs;
  }

  @Override
  public String name(Invalidation op, boolean currentTag) {
    InvalidationScope scope = op.scope();
    if (op.broadcast()) {
      requireInvlpgb();
      return switch (scope) {
        case VA, VA_ALL_ASIDS -> op.lastLevelOnly() ? "INVLPGB FINAL_ONLY" : "INVLPGB";
        case ASID -> "INVLPGB PCID";
        case ALL_NON_GLOBAL -> "INVLPGB ALL NON-GLOBAL";
        case ALL -> "INVLPGB ALL";
      };
    }
    return switch (scope) {
      case VA, VA_ALL_ASIDS -> currentTag ? "INVLPG" : requireInvpcid("INVPCID type 0", scope);
      case ASID -> requireInvpcid("INVPCID type 1", scope);
      case ALL -> invpcid ? "INVPCID type 2" : "CR4.PGE toggle";
      case ALL_NON_GLOBAL -> requireInvpcid("INVPCID type 3", scope);
    };
  }

  private String requireInvpcid(String name, InvalidationScope scope) {
    if (!invpcid) {
      throw new IllegalStateException(
          "x86 without INVPCID has no local "
              + scope
              + " invalidation ("
              + name
              + "); reload CR3 instead");
    }
    return name;
  }

  private void requireInvlpgb() {
    if (!invlpgb) {
      throw new IllegalStateException(
          "x86 has no broadcast invalidation unless /x86/invlpgb is true");
    }
  }

  @Override
  public long issueCycles(Invalidation op, boolean currentTag) {
    if (op.broadcast()) {
      return costs.invlpgb();
    }
    return switch (op.scope()) {
      case VA, VA_ALL_ASIDS -> currentTag ? costs.invlpg() : costs.invpcidAddress();
      case ASID -> costs.invpcidContext();
      case ALL -> invpcid ? costs.invpcidAll() : costs.cr4PgeToggle();
      case ALL_NON_GLOBAL -> costs.invpcidAll();
    };
  }

  @Override
  public boolean hasBroadcast() {
    return invlpgb;
  }

  /** INVLPGB has a final-translation-only form; the local instructions have none. */
  @Override
  public boolean keepsWalkCaches(Invalidation op) {
    return op.lastLevelOnly() && op.broadcast() && invlpgb;
  }

  /** INVLPGB can name a VA in every PCID; INVLPG and INVPCID cannot. */
  @Override
  public InvalidationScope effectiveScope(Invalidation op) {
    return !op.broadcast() && op.scope() == InvalidationScope.VA_ALL_ASIDS
        ? InvalidationScope.VA
        : op.scope();
  }

  /** INVLPG removes global entries for the page; INVPCID type 0 (another PCID) keeps them. */
  @Override
  public boolean byVaRemovesGlobal(boolean currentTag) {
    return currentTag;
  }

  @Override
  public boolean byVaDropsAllWalkCacheEntriesOfTheSpace() {
    return true;
  }

  @Override
  public long broadcastCompletionCycles(int cores) {
    return invlpgb ? costs.invlpgbCompletion() : 0;
  }

  @Override
  public String barrierName(BarrierKind kind) {
    return invlpgb && kind == BarrierKind.BROADCAST_COMPLETE ? "TLBSYNC" : null;
  }

  @Override
  public long barrierCycles(BarrierKind kind) {
    return invlpgb && kind == BarrierKind.BROADCAST_COMPLETE ? costs.tlbsync() : 0;
  }

  /** No range forms (INVLPGB's count is part of its by-VA form); see {@link #isEncodable}. */
  @Override
  public boolean supports(Invalidation op, boolean currentTag) {
    if (op.range()) {
      return false;
    }
    if (op.broadcast()) {
      return invlpgb;
    }
    InvalidationScope scope = op.scope();
    return invpcid || scope == InvalidationScope.ALL || (scope.byVa() && currentTag);
  }

  /**
   * {@inheritDoc}
   *
   * <p>INVLPGB by VA names a start and a count of strides (4 KiB, or 2 MiB with its stride bit):
   * the extent must be stride-aligned and at most {@link #broadcastRangeMaxPages} strides. {@code
   * // MODEL:} the local INVLPG and INVPCID type 0 cover the extent the kernel names (Linux issues
   * one per page; the machine removes what overlaps).
   */
  @Override
  public boolean isEncodable(Invalidation op, long vaStart, long vaEnd) {
    if (!op.broadcast()) {
      return !op.range();
    }
    long strideMask = (1L << op.strideShift()) - 1;
    long strides = (vaEnd - vaStart) >>> op.strideShift();
    return ((vaStart | vaEnd) & strideMask) == 0
        && strides >= 1
        && strides <= broadcastRangeMaxPages();
  }

  @Override
  public int broadcastRangeMaxPages() {
    return invlpgb ? invlpgbMaxPages : 1;
  }

  @Override
  public String contextWriteName(boolean flushTag) {
    if (flushTag) {
      return "MOV CR3";
    }
    if (!pcid) {
      throw new IllegalArgumentException(
          "MOV CR3 with NOFLUSH (bit 63) needs PCIDs (/x86/pcid true)");
    }
    return "MOV CR3 NOFLUSH";
  }

  @Override
  public long contextWriteCycles(boolean flushTag) {
    return flushTag ? costs.movCr3() : costs.movCr3Noflush();
  }
}
