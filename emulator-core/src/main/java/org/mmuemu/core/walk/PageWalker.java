package org.mmuemu.core.walk;

import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.core.isa.TranslationRegime;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.Oracle;
import org.mmuemu.core.oracle.ViolationKind;

/**
 * The generic hardware table walker: follows any ISA's {@link PageTableFormat} from the root its
 * {@link TranslationRegime} selects, starting below the deepest walk-cache hit, charging the
 * configured cost per descriptor read, and filling the walk caches on the way down.
 *
 * <p>It checks one oracle property itself: every table frame it reads must still hold a page table,
 * and a table reached through a walk cache must not have been freed since the cache entry was
 * filled ({@link ViolationKind#FREED_TABLE_WALK}), each judged at the walking core's time: only a
 * free at or before the walk's start cycle counts.
 *
 * <p>{@code // MODEL:} a table frame read through a descriptor (not a walk cache) carries no fill
 * stamp, so it is judged against the frame's last free.
 *
 * <p>{@code // MODEL:} walks are serial and one at a time per core (no parallel walkers, no
 * speculative walks); the walk's descriptor reads cost the configured per-level cycles whatever the
 * data caches would hold.
 *
 * <p>Shared by the cores of one machine; confined to the simulation thread. {@link #walk} allocates
 * nothing.
 */
public final class PageWalker {
  private final PageTableFormat format;
  private final TranslationRegime regime;
  private final PhysicalMemory memory;
  private final Oracle oracle;
  private final long[] memoryRefCyclesByLevel;
  private final long walkCacheHitCycles;

  public PageWalker(
      PageTableFormat format,
      TranslationRegime regime,
      PhysicalMemory memory,
      WalkerSpec spec,
      Oracle oracle) {
    this.format = format;
    this.regime = regime;
    this.memory = memory;
    this.oracle = oracle;
    int levels = format.levels();
    this.memoryRefCyclesByLevel = new long[levels];
    for (int level = 0; level < levels; level++) {
      int configured = Math.min(level, spec.memoryRefCycles().size() - 1);
      memoryRefCyclesByLevel[level] = spec.memoryRefCycles().get(configured);
    }
    this.walkCacheHitCycles = spec.walkCacheHitCycles();
  }

  public PageTableFormat format() {
    return format;
  }

  /** Creates the walk caches of one core, indexed by level (null where the level has none). */
  public WalkCache[] newWalkCaches(WalkerSpec spec) {
    WalkCache[] caches = new WalkCache[format.levels()];
    for (WalkerSpec.WalkCacheSpec cacheSpec : spec.walkCaches()) {
      int level = cacheSpec.level();
      if (level >= 0 && level < format.levels() - 1 && cacheSpec.entries() > 0) {
        caches[level] = new WalkCache(level, format.levelShift(level), cacheSpec.entries());
      }
    }
    return caches;
  }

  /**
   * Walks the tables for {@code va}.
   *
   * @param caches this core's walk caches, by level
   * @param out receives the outcome
   * @param core the walking core, for oracle reports
   * @param cycle the walking core's clock when the walk starts
   */
  public void walk(
      long va,
      TranslationContext context,
      WalkCache[] caches,
      WalkResult out,
      int core,
      long cycle) {
    out.reset();
    int asid = context.asid();
    boolean sharedWalkCacheEntry = regime.sharesWalkCacheEntries(va);
    int startLevel = 0;
    long tablePfn = regime.rootPa(va, context) >>> PhysicalMemory.FRAME_SHIFT;
    for (int level = format.levels() - 2; level >= 0; level--) {
      WalkCache cache = caches[level];
      if (cache == null) {
        continue;
      }
      int slot = cache.lookup(va, asid);
      if (slot >= 0) {
        tablePfn = cache.tablePfnOf(slot);
        startLevel = level + 1;
        out.walkCacheHits = 1;
        out.cycles += walkCacheHitCycles;
        long fillStamp = cache.fillStampOf(slot);
        if ((!memory.isCurrent(tablePfn, fillStamp) || !memory.isPageTable(tablePfn))
            && oracle.isStaleAt(tablePfn, fillStamp, cycle)) {
          oracle.report(
              ViolationKind.FREED_TABLE_WALK,
              core,
              cycle,
              va,
              tablePfn << PhysicalMemory.FRAME_SHIFT,
              tablePfn,
              "walk cache at level "
                  + level
                  + " pointed the walk at table frame 0x"
                  + Long.toHexString(tablePfn)
                  + ", freed or reused since the cache entry was filled");
        }
        break;
      }
    }
    for (int level = startLevel; level < format.levels(); level++) {
      int index = format.index(va, level);
      out.memoryRefs++;
      out.cycles += memoryRefCyclesByLevel[level];
      if (level > startLevel || startLevel == 0) {
        checkTableFrame(tablePfn, level, va, core, cycle);
      }
      long descriptor = memory.readDescriptor(tablePfn, index);
      out.leafTablePfn = tablePfn;
      out.leafIndex = index;
      out.level = level;
      if (!format.isValid(descriptor, level)) {
        out.faulted = true;
        return;
      }
      if (format.isLeaf(descriptor, level)) {
        out.basePa = format.outputPa(descriptor, level);
        out.pageShift = format.levelShift(level);
        out.flags = format.flags(descriptor, level);
        int contiguousShift = format.contiguousShift(descriptor, level);
        if (contiguousShift > 0) {
          // The hardware may cache the whole run from this one descriptor: the run's base is
          // the descriptor's output address with the bits below the run size taken from the VA.
          out.pageShift += contiguousShift;
          out.basePa &= -(1L << out.pageShift);
          checkContiguousRun(tablePfn, index, level, contiguousShift, descriptor, va, core, cycle);
        }
        return;
      }
      long nextTablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
      WalkCache cache = caches[level];
      if (cache != null) {
        cache.fill(va, asid, sharedWalkCacheEntry, nextTablePfn, memory.allocationSequence());
      }
      tablePfn = nextTablePfn;
    }
    throw new IllegalStateException(
        "table walk for 0x" + Long.toHexString(va) + " ran past the last level");
  }

  /**
   * Reports {@link ViolationKind#CONTIGUOUS_MISPROGRAMMED} when the run the leaf belongs to is not
   * what the contiguous hint promises: every entry valid, a leaf with the hint, the same attributes
   * (access and dirty state aside), consecutive output addresses from a base aligned to the run
   * size. An oracle check: it reads the run's descriptors without charging them.
   */
  private void checkContiguousRun(
      long tablePfn,
      int index,
      int level,
      int contiguousShift,
      long descriptor,
      long va,
      int core,
      long cycle) {
    int count = 1 << contiguousShift;
    int first = index & -count;
    long entryBytes = 1L << format.levelShift(level);
    long base = format.outputPa(memory.readDescriptor(tablePfn, first), level);
    int ignored = PteFlags.ACCESSED | PteFlags.DIRTY;
    int expectedFlags = format.flags(descriptor, level) & ~ignored;
    int bad = -1;
    if ((base & ((entryBytes << contiguousShift) - 1)) != 0) {
      bad = first;
    }
    for (int i = 0; i < count && bad < 0; i++) {
      long d = memory.readDescriptor(tablePfn, first + i);
      if (!format.isValid(d, level)
          || !format.isLeaf(d, level)
          || format.contiguousShift(d, level) != contiguousShift
          || (format.flags(d, level) & ~ignored) != expectedFlags
          || format.outputPa(d, level) != base + i * entryBytes) {
        bad = first + i;
      }
    }
    if (bad >= 0) {
      long pa = format.outputPa(descriptor, level);
      oracle.report(
          ViolationKind.CONTIGUOUS_MISPROGRAMMED,
          core,
          cycle,
          va,
          pa,
          pa >>> PhysicalMemory.FRAME_SHIFT,
          "contiguous run of "
              + count
              + " level-"
              + level
              + " entries at indexes "
              + first
              + "-"
              + (first + count - 1)
              + " of table frame 0x"
              + Long.toHexString(tablePfn)
              + " is misprogrammed at index "
              + bad
              + " (invalid, not contiguous, other attributes, or output not consecutive from an aligned base)");
    }
  }

  private void checkTableFrame(long tablePfn, int level, long va, int core, long cycle) {
    if (!memory.isPageTable(tablePfn) && oracle.frees().lastFreeCycle(tablePfn) <= cycle) {
      oracle.report(
          ViolationKind.FREED_TABLE_WALK,
          core,
          cycle,
          va,
          tablePfn << PhysicalMemory.FRAME_SHIFT,
          tablePfn,
          "walk read a level-"
              + level
              + " descriptor from frame 0x"
              + Long.toHexString(tablePfn)
              + ", which no longer holds a page table");
    }
  }
}
