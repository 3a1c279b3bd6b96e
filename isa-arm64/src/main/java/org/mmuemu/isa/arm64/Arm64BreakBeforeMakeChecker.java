package org.mmuemu.isa.arm64;

import java.util.function.Predicate;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.TableUpdateChecker;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.Oracle;
import org.mmuemu.core.oracle.ViolationKind;

/**
 * The break-before-make oracle (Arm ARM D8.14.1; DOMAIN.md §4.4): a valid descriptor may be
 * replaced by one with a different output address, a different size (table and block, the
 * contiguous bit), or different memory attributes (AttrIndx, shareability), or turned from
 * non-global to global, only by way of an invalid descriptor, a TLBI that covers the old entry (one
 * that also drops walk-cache entries when the old entry was a table), and a DSB that waits for that
 * TLBI, in that order. Anything else is reported as {@link ViolationKind#BREAK_BEFORE_MAKE}.
 * Permission, access-flag, dirty and software-bit changes are safe, as Linux's {@code
 * pgattr_change_is_safe} also holds.
 *
 * <p>How a slot's level and VA are known: a table frame is level 0 with VA base 0 until a table
 * descriptor pointing at it is written; that write gives the child its level and VA base. Roots are
 * never pointed at, so they stay level 0.
 *
 * <p>{@code // MODEL:} VAs are compared in their low 48 bits, because a root does not say whether
 * it is a TTBR0 or a TTBR1 table; a TLBI of a user VA therefore also "covers" the kernel VA with
 * the same low bits. ASIDs are not matched for by-VA TLBIs (a slot does not know the ASID its mm
 * runs with); an {@code ASIDE1} does not cover a global (nG clear) old entry, nor a table in the
 * upper half of the 48-bit space (VA bit 47 set, taken as TTBR1). A local (non-IS) TLBI covers a
 * slot only on a single-core machine, since other cores may cache it.
 *
 * <p>Confined to the simulation thread. Allocates per broken slot and per table learned (kernel
 * page-table writes, not the translation hot path); the maps are primitive-keyed, since a vmalloc
 * workload keeps tens of thousands of slots broken until its lazy purge.
 */
final class Arm64BreakBeforeMakeChecker implements TableUpdateChecker {
  private static final long VA48_MASK = (1L << 48) - 1;

  private final PhysicalMemory memory;
  private final Oracle oracle;
  private final int cores;
  private final Arm64PageTableFormat format = new Arm64PageTableFormat();

  // Per table frame, indexed by frame number: the va its first entry translates with its level in
  // the low bits (a table's va is page aligned), valid while the frame keeps the allocation stamp
  // beside it (a frame freed and used again as a table gets new ones). Every descriptor write looks
  // its table up here, and a hash map's probe was a sizeable share of a fault's host time.
  private long[] tableVaAndLevel = new long[0];
  private long[] tableStamp = new long[0];

  /** The breaks in progress (each is judged on its own: the order of a walk over them is moot). */
  private final PendingBreaks<Break> breaks = new PendingBreaks<>();

  /**
   * Per core, the breaks a TLBI of that core covered: what a DSB there may complete. Without any, a
   * DSB has nothing to look at.
   */
  private final int[] coveredBreaks;

  // Breaks that left the pending set, for reuse: an unmap makes one per page and a purge drops
  // tens of thousands at once, and allocating them (then copying the survivors at each young
  // collection) was a sizeable share of a vmalloc run's host time.
  private static final int MAX_POOLED_BREAKS = 1 << 16;
  private final Break[] pool = new Break[MAX_POOLED_BREAKS];
  private int pooled;

  private static final class Break {
    long tablePfn;
    long stamp;
    long previous;
    int level;
    long va;

    /** -1 until a covering TLBI ran; then the issuing core. */
    int tlbiCore;

    boolean tlbiBroadcast;

    Break set(long tablePfn, long stamp, long previous, int level, long va) {
      this.tablePfn = tablePfn;
      this.stamp = stamp;
      this.previous = previous;
      this.level = level;
      this.va = va;
      this.tlbiCore = -1;
      this.tlbiBroadcast = false;
      return this;
    }
  }

  Arm64BreakBeforeMakeChecker(PhysicalMemory memory, Oracle oracle, int cores) {
    this.memory = memory;
    this.oracle = oracle;
    this.cores = cores;
    this.coveredBreaks = new int[cores];
  }

  @Override
  public void descriptorWritten(
      int core, long cycle, long tablePfn, int index, long previous, long next) {
    long vaAndLevel = tableVaAndLevel(tablePfn);
    int level = (int) (vaAndLevel & LEVEL_BITS);
    long va = (vaAndLevel & ~LEVEL_BITS) + ((long) index << format.levelShift(level));
    if (Arm64PageTableFormat.isTable(next, level)) {
      recordTable(format.outputPa(next, level) >>> PhysicalMemory.FRAME_SHIFT, level + 1, va);
    }
    boolean wasValid = format.isValid(previous, level);
    boolean isValid = format.isValid(next, level);
    if (wasValid && isValid) {
      String why = unsafeChange(previous, next, level);
      if (why != null) {
        report(
            core,
            cycle,
            va,
            previous,
            level,
            why + " while the entry was live (no invalid entry, TLBI and DSB between)");
      }
    } else if (wasValid) {
      Break broken =
          (pooled > 0 ? pool[--pooled] : new Break())
              .set(tablePfn, stampOf(tablePfn), previous, level, va);
      drop(breaks.put(tablePfn, index, broken, va, lastByte(broken)));
    } else if (isValid) {
      Break pending = breaks.remove(tablePfn, index);
      if (pending != null && pending.stamp == stampOf(tablePfn)) {
        String why = unsafeChange(pending.previous, next, level);
        if (why != null) {
          report(
              core,
              cycle,
              va,
              pending.previous,
              level,
              why
                  + " after the entry was made invalid, but "
                  + (pending.tlbiCore < 0
                      ? "before any TLBI covering it"
                      : "before a DSB completed the TLBI"));
        }
      }
      drop(pending);
    }
  }

  @Override
  public void invalidated(int core, Invalidation op, long vaStart, long vaEnd, int asid) {
    boolean broadcast = op.broadcast();
    if (breaks.isEmpty() || (!broadcast && cores > 1)) {
      return;
    }
    long start = vaStart & VA48_MASK;
    long end = start + (vaEnd - vaStart);
    Predicate<Break> coverOrDrop =
        b -> {
          if (b.stamp != stampOf(b.tablePfn)) {
            drop(b);
            return true; // the table was freed and its frame reused; its breaks are moot
          }
          if (b.tlbiCore < 0 && covers(b, op.scope(), start, end, op.lastLevelOnly())) {
            b.tlbiCore = core;
            b.tlbiBroadcast = broadcast;
            coveredBreaks[core]++;
          }
          return false;
        };
    // A by-VA TLBI covers only breaks in its range; the walk also drops stale breaks it meets, and
    // leaving those of other tables for a later walk changes nothing a report can see.
    if (op.scope() == InvalidationScope.VA || op.scope() == InvalidationScope.VA_ALL_ASIDS) {
      breaks.removeIfMayOverlap(start, end, coverOrDrop);
    } else {
      breaks.removeIf(coverOrDrop);
    }
  }

  private boolean covers(
      Break b, InvalidationScope scope, long start, long end, boolean lastLevelOnly) {
    if (lastLevelOnly && Arm64PageTableFormat.isTable(b.previous, b.level)) {
      return false; // a last-level TLBI leaves the walk-cache entries of a replaced table
    }
    boolean global = (b.previous & Arm64PageTableFormat.NOT_GLOBAL) == 0;
    return switch (scope) {
      case VA, VA_ALL_ASIDS ->
          Long.compareUnsigned(b.va, end) < 0 && Long.compareUnsigned(start, lastByte(b)) <= 0;
      // Walk-cache entries of user (TTBR0) tables carry the ASID; kernel ones are shared.
      case ASID, ALL_NON_GLOBAL ->
          Arm64PageTableFormat.isTable(b.previous, b.level) ? (b.va & (1L << 47)) == 0 : !global;
      case ALL -> true;
    };
  }

  @Override
  public void barrier(int core, BarrierKind kind) {
    if (coveredBreaks[core] == 0
        || (kind != BarrierKind.BROADCAST_COMPLETE && kind != BarrierKind.LOCAL_COMPLETE)) {
      return;
    }
    breaks.removeIf(
        b -> {
          if (b.tlbiCore == core && (kind == BarrierKind.BROADCAST_COMPLETE || !b.tlbiBroadcast)) {
            drop(b);
            return true;
          }
          return false;
        });
  }

  private long lastByte(Break b) {
    return b.va + (1L << format.levelShift(b.level)) - 1;
  }

  // A break leaves the pending set: it no longer counts as covered by its TLBI's core, and goes
  // back to the pool (nothing refers to it any more).
  private void drop(Break b) {
    if (b == null) {
      return;
    }
    if (b.tlbiCore >= 0) {
      coveredBreaks[b.tlbiCore]--;
    }
    if (pooled < MAX_POOLED_BREAKS) {
      pool[pooled++] = b;
    }
  }

  /**
   * Returns why replacing {@code previous} by {@code next} needs break-before-make, or null when it
   * does not.
   */
  static String unsafeChange(long previous, long next, int level) {
    boolean previousTable = Arm64PageTableFormat.isTable(previous, level);
    boolean nextTable = Arm64PageTableFormat.isTable(next, level);
    if (previousTable != nextTable) {
      return previousTable
          ? "a table descriptor was replaced by a block"
          : "a block was replaced by a table descriptor";
    }
    if ((previous & Arm64PageTableFormat.OUTPUT_MASK)
        != (next & Arm64PageTableFormat.OUTPUT_MASK)) {
      return "the output address changed from 0x"
          + Long.toHexString(previous & Arm64PageTableFormat.OUTPUT_MASK)
          + " to 0x"
          + Long.toHexString(next & Arm64PageTableFormat.OUTPUT_MASK);
    }
    if (previousTable) {
      return null;
    }
    if (((previous ^ next) & Arm64PageTableFormat.CONTIGUOUS) != 0) {
      return "the contiguous bit was "
          + ((next & Arm64PageTableFormat.CONTIGUOUS) != 0 ? "set" : "cleared");
    }
    if (((previous ^ next) & Arm64PageTableFormat.MEMORY_ATTRIBUTES) != 0) {
      return "the memory type or shareability changed";
    }
    if ((previous & Arm64PageTableFormat.NOT_GLOBAL) != 0
        && (next & Arm64PageTableFormat.NOT_GLOBAL) == 0) {
      return "a non-global entry became global";
    }
    return null;
  }

  private void report(int core, long cycle, long va, long previous, int level, String why) {
    long shown = (va << 16) >> 16; // sign-extend from bit 47 for display
    long pa = previous & Arm64PageTableFormat.OUTPUT_MASK;
    boolean table = Arm64PageTableFormat.isTable(previous, level);
    oracle.report(
        ViolationKind.BREAK_BEFORE_MAKE,
        core,
        cycle,
        shown,
        pa,
        table ? -1 : pa >>> PhysicalMemory.FRAME_SHIFT,
        "level-" + level + " entry for va 0x" + Long.toHexString(shown) + ": " + why);
  }

  private static final long LEVEL_BITS = 0x7;

  // The va and level of table frame pfn, or 0 (the root's: level 0, va 0) for a frame not known
  // as a table under its current allocation.
  private long tableVaAndLevel(long pfn) {
    if (pfn < 0 || pfn >= tableStamp.length || tableStamp[(int) pfn] != stampOf(pfn)) {
      return 0L;
    }
    return tableVaAndLevel[(int) pfn];
  }

  private void recordTable(long pfn, int level, long va) {
    if (pfn < 0 || pfn >= memory.frameCount()) {
      return; // not a frame of this memory: no walk reads a table there
    }
    long stamp = stampOf(pfn);
    if (pfn >= tableStamp.length) {
      int length = (int) Math.min(memory.frameCount(), Math.max(pfn + 1, 2L * tableStamp.length));
      tableVaAndLevel = java.util.Arrays.copyOf(tableVaAndLevel, length);
      tableStamp = java.util.Arrays.copyOf(tableStamp, length);
    }
    tableVaAndLevel[(int) pfn] = va | level;
    tableStamp[(int) pfn] = stamp;
  }

  private long stampOf(long pfn) {
    return pfn > 0 && pfn < memory.frameCount() ? memory.allocationStamp(pfn) : -1;
  }
}
