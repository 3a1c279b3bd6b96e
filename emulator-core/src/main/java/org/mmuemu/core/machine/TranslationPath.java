package org.mmuemu.core.machine;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.oracle.FrameHistory;
import org.mmuemu.core.oracle.FrameHistory.FrameEvent;
import org.mmuemu.core.oracle.Oracle;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceBus;
import org.mmuemu.core.walk.PageWalker;
import org.mmuemu.core.walk.WalkResult;

/**
 * The translation path of one machine: TLB lookup level by level, the oracle's check of every hit,
 * the table walk on a miss, the fill, hardware accessed/dirty updates, and the call into the
 * kernel's {@link FaultHandler}.
 *
 * <h3>The cycle model of an access</h3>
 *
 * The core pays the hit latency of each TLB level it looks up, in order, until one hits; a hit
 * fills the levels looked up before it. When every level misses the walker runs (its cost is
 * charged) and the translation fills every level on the path. A walk that faults calls the kernel's
 * {@link FaultHandler}, which charges its own work, then the walk runs again. Finally the access
 * itself costs {@code accessCycles}.
 *
 * <p>{@code // MODEL:} fills are inclusive (every level on the lookup path receives the entry);
 * real hierarchies differ (Intel's STLB is not strictly inclusive of the L1 TLBs), which this model
 * does not distinguish.
 *
 * <h3>The oracle</h3>
 *
 * Every TLB hit is checked against the physical memory's frame stamps at the accessing core's time:
 * an entry whose frame was freed, or allocated again, since the fill, by a free at or before the
 * core's clock, reports {@link ViolationKind#STALE_TLB_USE} with the frame's recent history. A hit
 * before that free (this core is behind the freeing one) is a legitimate use at its own time.
 * Invalidations from other cores land when this core's clock reaches their arrival, checked at the
 * start of each translation.
 *
 * <p>Confined to one simulation thread. {@link #access} and {@link #translate} allocate nothing.
 */
final class TranslationPath {
  private final Core[] cores;
  private final PhysicalMemory memory;
  private final CoreClocks clocks;
  private final PageWalker walker;
  private final PageTableFormat format;
  private final TraceBus traceBus;
  private final RunStats stats;
  private final Oracle oracle;
  private final FrameHistory history;
  private final TlbMaintenance maintenance;
  private final long accessCycles;
  private final boolean hardwareAccessedDirty;
  private final boolean hardwareDirty;
  private final boolean hardwareAccessed;
  private boolean speculating;
  private FaultHandler faultHandler;
  private long unresolvedFaults;

  TranslationPath(
      Core[] cores,
      PhysicalMemory memory,
      CoreClocks clocks,
      PageWalker walker,
      PageTableFormat format,
      TraceBus traceBus,
      RunStats stats,
      Oracle oracle,
      FrameHistory history,
      TlbMaintenance maintenance,
      long accessCycles) {
    this.cores = cores;
    this.memory = memory;
    this.clocks = clocks;
    this.walker = walker;
    this.format = format;
    this.traceBus = traceBus;
    this.stats = stats;
    this.oracle = oracle;
    this.history = history;
    this.maintenance = maintenance;
    this.accessCycles = accessCycles;
    this.hardwareAccessedDirty = format.hardwareUpdatesAccessedDirty();
    this.hardwareDirty = format.setsDirtyInHardware();
    this.hardwareAccessed = format.setsAccessedInHardware();
  }

  /** Installs the kernel's fault handler. */
  void setFaultHandler(FaultHandler handler) {
    this.faultHandler = handler;
  }

  /** Accesses whose fault the kernel could not resolve. */
  long unresolvedFaults() {
    return unresolvedFaults;
  }

  /**
   * Performs one access: translates each 4 KiB page the bytes touch, in address order, then pays
   * the access cost once.
   *
   * @param sizeBytes bytes accessed, at least 1
   * @return whether every page translated (false after an unresolved fault)
   */
  boolean access(int core, long va, int sizeBytes, AccessKind kind) {
    long firstPage = va >>> PhysicalMemory.FRAME_SHIFT;
    long lastPage = (va + Math.max(1, sizeBytes) - 1) >>> PhysicalMemory.FRAME_SHIFT;
    boolean ok = true;
    for (long page = firstPage; ok; page++) {
      long pageVa = page == firstPage ? va : page << PhysicalMemory.FRAME_SHIFT;
      long pa = translate(core, pageVa, kind);
      if (pa < 0) {
        ok = false;
      } else if (kind == AccessKind.WRITE) {
        memory.recordWrite(pa >>> PhysicalMemory.FRAME_SHIFT, clocks.now(core));
      }
      if (page == lastPage) {
        break;
      }
    }
    clocks.advance(core, accessCycles);
    return ok;
  }

  /**
   * Translates {@code va} for {@code kind} on {@code core}, charging every lookup, walk and fault
   * to the core's clock.
   *
   * @return the physical address, or -1 when a fault was not resolved
   */
  long translate(int core, long va, AccessKind kind) {
    stats.countTranslation();
    maintenance.applyArrived(core, clocks.now(core));
    Core c = cores[core];
    boolean fetch = kind == AccessKind.FETCH;
    SetAssociativeTlb[] path = c.path(fetch);
    int asid = c.context().asid();
    for (int level = 0; level < path.length; level++) {
      SetAssociativeTlb tlb = path[level];
      clocks.advance(core, tlb.hitCycles());
      int slot = tlb.lookup(va, asid);
      if (slot < 0) {
        if (traceBus.wants(EventKind.TLB_MISS)) {
          traceBus.publish(EventKind.TLB_MISS, core, clocks.now(core), va, 0, tlb.levelIndex());
        }
        continue;
      }
      long pa = tlb.translate(slot, va);
      if (speculating) {
        return pa; // a hit starts no walk, and a speculative load through it is not a use
      }
      int flags = tlb.flagsOf(slot);
      checkHit(core, tlb, slot, va, pa);
      if (traceBus.wants(EventKind.TLB_HIT)) {
        traceBus.publish(EventKind.TLB_HIT, core, clocks.now(core), va, pa, tlb.levelIndex());
      }
      if (!permits(flags, kind)) {
        return faultAndRetry(c, va, kind, true);
      }
      if (kind == AccessKind.WRITE
          && (flags & PteFlags.DIRTY) == 0
          && (hardwareAccessedDirty || hardwareDirty)) {
        // The entry caches a clear dirty flag: the store walks the tables to set it (and
        // faults if the leaf is gone); the refilled entries carry it, so later stores do not.
        return walkAndFill(c, va, kind);
      }
      for (int upper = 0; upper < level; upper++) {
        int copy =
            path[upper].fill(
                va,
                tlb.pageShiftOf(slot),
                asid,
                tlb.isGlobal(slot),
                tlb.pfnOf(slot),
                flags,
                tlb.fillStampOf(slot));
        if (copy >= 0) {
          path[upper].setFillRoot(copy, tlb.fillRootOf(slot));
        }
      }
      return pa;
    }
    return walkAndFill(c, va, kind);
  }

  /**
   * A speculative page walk of {@code va} on {@code core}, as a CPU makes through a stale pointer:
   * nothing happens when a TLB level already holds {@code va} (no walk starts, and nothing is
   * used); otherwise the walk runs through the walk caches and fills the TLB as a load's would. The
   * walk's own checks (a walk reaching a freed table) apply. A walk that finds no translation is
   * dropped: it counts as a fault and an unresolved one, and the fault handler is not entered (no
   * exception is taken).
   */
  void speculativeWalk(int core, long va) {
    speculating = true;
    try {
      translate(core, va, AccessKind.READ);
    } finally {
      speculating = false;
    }
  }

  // A store needs write permission and an instruction fetch execute permission (arm64 UXN/PXN,
  // x86 NX), both as cached in the TLB entry. MODEL: accesses carry no privilege level, so the
  // user/kernel (AP[1], U/S) check is not made.
  private static boolean permits(int flags, AccessKind kind) {
    return switch (kind) {
      case WRITE -> (flags & PteFlags.WRITE) != 0;
      case FETCH -> (flags & PteFlags.EXEC) != 0;
      default -> true;
    };
  }

  private void checkHit(int core, SetAssociativeTlb tlb, int slot, long va, long pa) {
    long pfn = pa >>> PhysicalMemory.FRAME_SHIFT;
    // An ASID (PCID) names one address space until the kernel flushes it for reuse: a user entry
    // hit under another page-table root than the one it was filled from means the number was
    // reused without that flush (DOMAIN.md §4.6.2), whatever frame it reaches.
    if (va >= 0 && !tlb.isGlobal(slot)) {
      long fillRoot = tlb.fillRootOf(slot);
      long root = cores[core].context().userRootPa();
      if (fillRoot != root) {
        reportStale(
            core,
            tlb,
            va,
            pa,
            pfn,
            " under ASID "
                + cores[core].context().asid()
                + ": the entry was filled for the address space rooted at 0x"
                + Long.toHexString(fillRoot)
                + ", not the running one at 0x"
                + Long.toHexString(root)
                + " (the ASID was reused without a flush)");
        return;
      }
    }
    long fillStamp = tlb.fillStampOf(slot);
    if (!memory.isCurrent(pfn, fillStamp) && oracle.isStaleAt(pfn, fillStamp, clocks.now(core))) {
      boolean freed = !memory.isAllocated(pfn);
      reportStale(
          core,
          tlb,
          va,
          pa,
          pfn,
          " reached frame 0x"
              + Long.toHexString(pfn)
              + (freed
                  ? ", which is free"
                  : ", which was allocated again after the entry was filled"));
    }
  }

  private void reportStale(
      int core, SetAssociativeTlb tlb, long va, long pa, long pfn, String why) {
    String what = "hit in " + tlb.name() + " for va 0x" + Long.toHexString(va) + why;
    oracle.report(ViolationKind.STALE_TLB_USE, core, clocks.now(core), va, pa, pfn, what);
    if (traceBus.wants(EventKind.VIOLATION)) {
      traceBus.publish(
          EventKind.VIOLATION,
          core,
          clocks.now(core),
          va,
          pa,
          ViolationKind.STALE_TLB_USE.ordinal());
    }
  }

  private long walkAndFill(Core c, long va, AccessKind kind) {
    int core = c.id();
    WalkResult walk = c.walkResult;
    boolean faultedOnce = false;
    while (true) {
      long stamp = memory.allocationSequence();
      walker.walk(va, c.context(), c.walkCaches(), walk, core, clocks.now(core));
      clocks.advance(core, walk.cycles);
      stats.addComponentCycles(CycleComponent.WALKS, walk.cycles);
      stats.recordWalk(walk.memoryRefs, walk.walkCacheHits, walk.cycles);
      if (traceBus.wants(EventKind.WALK)) {
        traceBus.publish(
            EventKind.WALK,
            core,
            clocks.now(core),
            va,
            walk.faulted ? -1 : walk.basePa + (va & ((1L << walk.pageShift) - 1)),
            walk.cycles);
      }
      boolean permitted = !walk.faulted && permits(walk.flags, kind);
      if (permitted) {
        if (hardwareAccessedDirty) {
          markAccessedDirty(walk, kind);
        } else {
          if (hardwareAccessed && (walk.flags & PteFlags.ACCESSED) == 0) {
            markAccessed(walk);
          }
          if (kind == AccessKind.WRITE && hardwareDirty && (walk.flags & PteFlags.DIRTY) == 0) {
            markDirty(walk);
          }
        }
        return fillPath(c, va, kind, walk, stamp);
      }
      // A fault the handler claims to have fixed, yet the walk faults again the same way, would
      // loop forever: after one retry it counts as unresolved.
      if (faultedOnce) {
        unresolvedFaults++;
        return -1;
      }
      faultedOnce = true;
      if (!callFaultHandler(core, va, kind, !walk.faulted, walk.level)) {
        return -1;
      }
    }
  }

  /**
   * Sets the leaf's accessed flag, and its dirty flag for a store, as the hardware walker does
   * where the ISA declares it. {@code // MODEL:} the locked descriptor update costs nothing beyond
   * the walk that read the descriptor.
   */
  private void markAccessedDirty(WalkResult walk, AccessKind kind) {
    int needed = PteFlags.ACCESSED | (kind == AccessKind.WRITE ? PteFlags.DIRTY : 0);
    if ((walk.flags & needed) == needed || !memory.isPageTable(walk.leafTablePfn)) {
      return; // a walk through a freed table (already reported by the walker) updates nothing
    }
    long descriptor = memory.readDescriptor(walk.leafTablePfn, walk.leafIndex);
    memory.writeDescriptor(
        walk.leafTablePfn,
        walk.leafIndex,
        format.withFlags(descriptor, walk.level, format.flags(descriptor, walk.level) | needed));
    walk.flags |= needed;
    if ((needed & PteFlags.DIRTY) != 0) {
      stats.countHardwareDirtyUpdate();
    }
  }

  /**
   * The hardware's access-flag update (arm64 FEAT_HAFDBS): the leaf the walk ended at is rewritten
   * with {@link PteFlags#ACCESSED}. {@code // MODEL:} as for the dirty update, the atomic
   * descriptor update costs nothing beyond the walk.
   */
  private void markAccessed(WalkResult walk) {
    if (!memory.isPageTable(walk.leafTablePfn)) {
      return; // a walk through a freed table (already reported by the walker) updates nothing
    }
    long descriptor = memory.readDescriptor(walk.leafTablePfn, walk.leafIndex);
    int flags = format.flags(descriptor, walk.level) | PteFlags.ACCESSED;
    memory.writeDescriptor(
        walk.leafTablePfn, walk.leafIndex, format.withFlags(descriptor, walk.level, flags));
    walk.flags |= PteFlags.ACCESSED;
  }

  /**
   * The hardware's dirty-state update (arm64 DBM: AP[2] cleared; x86: D set): the leaf the walk
   * ended at is rewritten with {@link PteFlags#DIRTY}, and the translation is filled dirty.
   *
   * <p>{@code // MODEL:} for a contiguous run only the descriptor walked is marked; the run's TLB
   * entry is dirty for the whole run (Linux ORs the run's dirty bits when it reads them).
   */
  private void markDirty(WalkResult walk) {
    long descriptor = memory.readDescriptor(walk.leafTablePfn, walk.leafIndex);
    int flags = format.flags(descriptor, walk.level) | PteFlags.DIRTY;
    memory.writeDescriptor(
        walk.leafTablePfn, walk.leafIndex, format.withFlags(descriptor, walk.level, flags));
    walk.flags |= PteFlags.DIRTY;
    stats.countHardwareDirtyUpdate();
  }

  private long faultAndRetry(Core c, long va, AccessKind kind, boolean permission) {
    if (!callFaultHandler(c.id(), va, kind, permission, -1)) {
      return -1;
    }
    // MODEL: the stale read-only entry is dropped locally before the retry, as the kernel's
    // fault path would flush it after upgrading the descriptor.
    maintenance.dropStalePage(c, va);
    return walkAndFill(c, va, kind);
  }

  private boolean callFaultHandler(
      int core, long va, AccessKind kind, boolean permission, int level) {
    stats.countFault();
    if (traceBus.wants(EventKind.FAULT)) {
      traceBus.publish(EventKind.FAULT, core, clocks.now(core), va, kind.ordinal(), level);
    }
    if (faultHandler == null
        || speculating
        || !faultHandler.handleFault(core, va, kind, permission)) {
      unresolvedFaults++;
      return false;
    }
    return true;
  }

  private long fillPath(Core c, long va, AccessKind kind, WalkResult walk, long stamp) {
    int core = c.id();
    SetAssociativeTlb[] path = c.path(kind == AccessKind.FETCH);
    long basePfn = walk.basePa >>> PhysicalMemory.FRAME_SHIFT;
    boolean global = (walk.flags & PteFlags.GLOBAL) != 0;
    int asid = c.context().asid();
    for (int level = 0; level < path.length; level++) {
      int slot = path[level].fill(va, walk.pageShift, asid, global, basePfn, walk.flags, stamp);
      if (slot >= 0) {
        path[level].setFillRoot(slot, c.context().userRootPa());
      }
      if (slot >= 0 && traceBus.wants(EventKind.TLB_FILL)) {
        traceBus.publish(
            EventKind.TLB_FILL,
            core,
            clocks.now(core),
            va,
            path[level].translate(slot, va),
            path[level].levelIndex());
      }
    }
    long pa = walk.basePa + (va & ((1L << walk.pageShift) - 1));
    history.record(
        pa >>> PhysicalMemory.FRAME_SHIFT, FrameEvent.TLB_FILLED, core, clocks.now(core), va, 0);
    return pa;
  }
}
