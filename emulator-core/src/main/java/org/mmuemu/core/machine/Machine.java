package org.mmuemu.core.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.FrameListener;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.oracle.FrameHistory;
import org.mmuemu.core.oracle.FrameHistory.FrameEvent;
import org.mmuemu.core.oracle.Oracle;
import org.mmuemu.core.oracle.TableUpdateChecker;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.core.time.Scheduler;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.InstructionNames;
import org.mmuemu.core.trace.TraceBus;
import org.mmuemu.core.walk.PageWalker;
import org.mmuemu.core.walk.WalkCache;
import org.mmuemu.core.walk.WalkResult;

/**
 * The simulated machine: cores with their clocks, TLB hierarchies and walk caches, physical
 * memory holding the page tables, the walker, the trace bus, the run statistics and the oracle.
 *
 * <h3>The cycle model of an access</h3>
 * The core pays the hit latency of each TLB level it looks up, in order, until one hits; a
 * hit fills the levels looked up before it. When every level misses the walker runs (its cost
 * is charged) and the translation fills every level on the path. A walk that faults calls the
 * kernel's {@link FaultHandler}, which charges its own work, then the walk runs again. Finally
 * the access itself costs {@code accessCycles}.
 *
 * <p>{@code // MODEL:} fills are inclusive (every level on the lookup path receives the entry);
 * real hierarchies differ (Intel's STLB is not strictly inclusive of the L1 TLBs), which this
 * model does not distinguish.
 *
 * <h3>The oracle</h3>
 * Every TLB hit is checked against the physical memory's frame stamps: an entry whose frame
 * was freed, or allocated again, since the fill reports {@link ViolationKind#STALE_TLB_USE}
 * with the frame's recent history.
 *
 * <p>Confined to one simulation thread. {@link #access} and {@link #translate} allocate nothing.
 */
public final class Machine {
  private static final int HISTORY_EVENTS = 1 << 16;
  private static final int MAX_RECORDED_VIOLATIONS = 1000;

  private final MachineSpec spec;
  private final Isa isa;
  private final PhysicalMemory memory;
  private final CoreClocks clocks;
  private final Core[] cores;
  private final PageWalker walker;
  private final TraceBus traceBus = new TraceBus();
  private final RunStats stats = new RunStats();
  private final FrameHistory history = new FrameHistory(HISTORY_EVENTS);
  private final Oracle oracle = new Oracle(history, MAX_RECORDED_VIOLATIONS);
  private final long accessCycles;
  private final boolean hardwareAccessedDirty;
  private final long[] outstandingBroadcastUntil;
  private final boolean[] idle;
  private final TableUpdateChecker tableChecker;
  private long broadcastChannelFreeAt;
  private final boolean hardwareDirty;
  private FaultHandler faultHandler;
  private java.util.function.IntConsumer idleListener;
  private int actingCore;
  private long lastIpiAcknowledgedCycle;
  private long unresolvedFaults;

  /**
   * Builds a machine in its reset state: empty TLBs, no page tables, all clocks at 0.
   *
   * @param spec the validated machine config
   * @param isa the ISA created from the config's ISA section
   * @param seed the run's seed; every random TLB replacement derives from it
   */
  public Machine(MachineSpec spec, Isa isa, long seed) {
    this.spec = spec;
    this.isa = isa;
    this.memory = new PhysicalMemory(spec.memoryBytes());
    this.clocks = new CoreClocks(spec.cores());
    this.accessCycles = spec.accessCycles();
    this.hardwareAccessedDirty = isa.pageTableFormat().hardwareUpdatesAccessedDirty();
    this.walker = new PageWalker(isa.pageTableFormat(), isa.regime(), memory, spec.walker(), oracle);
    this.cores = new Core[spec.cores()];
    for (int id = 0; id < cores.length; id++) {
      List<SetAssociativeTlb> levels = new ArrayList<>();
      int levelIndex = 0;
      for (TlbLevelSpec levelSpec : spec.tlbLevels()) {
        levels.add(new SetAssociativeTlb(levelSpec, mixSeed(seed, id, levelIndex), levelIndex));
        levelIndex++;
      }
      cores[id] = new Core(id, levels, walker.newWalkCaches(spec.walker()));
    }
    memory.setListener(new HistoryRecorder());
    this.outstandingBroadcastUntil = new long[cores.length];
    this.idle = new boolean[cores.length];
    this.hardwareDirty = isa.pageTableFormat().setsDirtyInHardware();
    this.tableChecker = isa.newTableUpdateChecker(memory, oracle, cores.length);
    if (tableChecker != null) {
      memory.setDescriptorWriteListener((tablePfn, index, previous, next) ->
          tableChecker.descriptorWritten(actingCore, clocks.now(actingCore), tablePfn, index, previous, next));
    }
  }

  private static long mixSeed(long seed, int core, int level) {
    long z = seed + 0x9E3779B97F4A7C15L * (1 + core * 64L + level);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  public MachineSpec spec() {
    return spec;
  }

  public Isa isa() {
    return isa;
  }

  public PageTableFormat format() {
    return isa.pageTableFormat();
  }

  public PhysicalMemory memory() {
    return memory;
  }

  public CoreClocks clocks() {
    return clocks;
  }

  public int coreCount() {
    return cores.length;
  }

  public Core core(int id) {
    return cores[id];
  }

  public TraceBus traceBus() {
    return traceBus;
  }

  public RunStats stats() {
    return stats;
  }

  public Oracle oracle() {
    return oracle;
  }

  public FrameHistory history() {
    return history;
  }

  /** Accesses whose fault the kernel could not resolve. */
  public long unresolvedFaults() {
    return unresolvedFaults;
  }

  /**
   * Installs what runs, as the acting core, when a core's program has no more steps (the kernel
   * switching that CPU to its idle task: Linux's lazy TLB mode on x86).
   */
  public void setIdleListener(java.util.function.IntConsumer listener) {
    this.idleListener = listener;
  }

  /** Installs the kernel's fault handler. */
  public void setFaultHandler(FaultHandler handler) {
    this.faultHandler = handler;
  }

  /** The core whose step is running: the owner of frame events and kernel work. */
  public int actingCore() {
    return actingCore;
  }

  /** Charges {@code cycles} to {@code core}. */
  public void charge(int core, long cycles) {
    clocks.advance(core, cycles);
    stats.addComponentCycles(CycleComponent.KERNEL_WORK, cycles);
  }

  /**
   * Makes {@code core} wait until {@code acknowledgedCycle}, the time the targets of IPIs it
   * sent without waiting have acknowledged ({@link #lastIpiAcknowledgedCycle}); the wait counts
   * as IPI cycles.
   */
  public void waitForIpiAcknowledgements(int core, long acknowledgedCycle) {
    long before = clocks.now(core);
    clocks.waitUntil(core, acknowledgedCycle);
    stats.addComponentCycles(CycleComponent.IPIS, clocks.now(core) - before);
  }

  public long now(int core) {
    return clocks.now(core);
  }

  /**
   * Runs the cores' programs with the deterministic scheduler.
   *
   * @return the number of steps taken
   */
  public long run(CoreProgram[] programs, BooleanSupplier cancelled) {
    CoreProgram[] wrapped = new CoreProgram[programs.length];
    for (int i = 0; i < programs.length; i++) {
      CoreProgram program = programs[i];
      idle[i] = program == null;
      wrapped[i] = program == null ? null : core -> {
        actingCore = core;
        boolean more = program.step(core);
        idle[core] = !more;
        if (!more && idleListener != null) {
          idleListener.accept(core);
        }
        return more;
      };
    }
    return new Scheduler(clocks, spec.quantumCycles()).run(wrapped, cancelled);
  }

  /** Makes {@code core} the acting core, for work done outside {@link #run} (set-up, tests). */
  public void actOn(int core) {
    this.actingCore = core;
  }

  /**
   * Performs one access: translates each 4 KiB page the bytes touch, in address order, then
   * pays the access cost once.
   *
   * @param sizeBytes bytes accessed, at least 1
   * @return whether every page translated (false after an unresolved fault)
   */
  public boolean access(int core, long va, int sizeBytes, AccessKind kind) {
    long firstPage = va >>> PhysicalMemory.FRAME_SHIFT;
    long lastPage = (va + Math.max(1, sizeBytes) - 1) >>> PhysicalMemory.FRAME_SHIFT;
    boolean ok = true;
    for (long page = firstPage; ok; page++) {
      long pageVa = page == firstPage ? va : page << PhysicalMemory.FRAME_SHIFT;
      long pa = translate(core, pageVa, kind);
      if (pa < 0) {
        ok = false;
      } else if (kind == AccessKind.WRITE) {
        memory.recordWrite(pa >>> PhysicalMemory.FRAME_SHIFT);
      }
      if (page == lastPage) {
        break;
      }
    }
    clocks.advance(core, accessCycles);
    return ok;
  }

  /**
   * Translates {@code va} for {@code kind} on {@code core}, charging every lookup, walk and
   * fault to the core's clock.
   *
   * @return the physical address, or -1 when a fault was not resolved
   */
  public long translate(int core, long va, AccessKind kind) {
    stats.countTranslation();
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
      int flags = tlb.flagsOf(slot);
      checkHit(core, tlb, slot, va, pa);
      if (traceBus.wants(EventKind.TLB_HIT)) {
        traceBus.publish(EventKind.TLB_HIT, core, clocks.now(core), va, pa, tlb.levelIndex());
      }
      if (!permits(flags, kind)) {
        return faultAndRetry(c, va, kind, true);
      }
      if (kind == AccessKind.WRITE && (flags & PteFlags.DIRTY) == 0 && (hardwareAccessedDirty || hardwareDirty)) {
        // The entry caches a clear dirty flag: the store walks the tables to set it (and
        // faults if the leaf is gone); the refilled entries carry it, so later stores do not.
        return walkAndFill(c, va, kind);
      }
      for (int upper = 0; upper < level; upper++) {
        path[upper].fill(va, tlb.pageShiftOf(slot), asid, tlb.isGlobal(slot), tlb.pfnOf(slot), flags,
            tlb.fillStampOf(slot));
      }
      return pa;
    }
    return walkAndFill(c, va, kind);
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
    if (!memory.isCurrent(pfn, tlb.fillStampOf(slot))) {
      boolean freed = !memory.isAllocated(pfn);
      oracle.report(ViolationKind.STALE_TLB_USE, core, clocks.now(core), va, pa, pfn,
          "hit in " + tlb.name() + " for va 0x" + Long.toHexString(va) + " reached frame 0x" + Long.toHexString(pfn)
              + (freed ? ", which is free" : ", which was allocated again after the entry was filled"));
      if (traceBus.wants(EventKind.VIOLATION)) {
        traceBus.publish(EventKind.VIOLATION, core, clocks.now(core), va, pa, ViolationKind.STALE_TLB_USE.ordinal());
      }
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
        traceBus.publish(EventKind.WALK, core, clocks.now(core), va,
            walk.faulted ? -1 : walk.basePa + (va & ((1L << walk.pageShift) - 1)), walk.cycles);
      }
      boolean permitted = !walk.faulted && permits(walk.flags, kind);
      if (permitted) {
        if (hardwareAccessedDirty) {
          markAccessedDirty(walk, kind);
        } else if (kind == AccessKind.WRITE && hardwareDirty && (walk.flags & PteFlags.DIRTY) == 0) {
          markDirty(walk);
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
   * where the ISA declares it. {@code // MODEL:} the locked descriptor update costs nothing
   * beyond the walk that read the descriptor.
   */
  private void markAccessedDirty(WalkResult walk, AccessKind kind) {
    int needed = PteFlags.ACCESSED | (kind == AccessKind.WRITE ? PteFlags.DIRTY : 0);
    if ((walk.flags & needed) == needed || !memory.isPageTable(walk.leafTablePfn)) {
      return; // a walk through a freed table (already reported by the walker) updates nothing
    }
    long descriptor = memory.readDescriptor(walk.leafTablePfn, walk.leafIndex);
    PageTableFormat format = isa.pageTableFormat();
    memory.writeDescriptor(walk.leafTablePfn, walk.leafIndex,
        format.withFlags(descriptor, walk.level, format.flags(descriptor, walk.level) | needed));
    walk.flags |= needed;
    if ((needed & PteFlags.DIRTY) != 0) {
      stats.countHardwareDirtyUpdate();
    }
  }

  /**
   * The hardware's dirty-state update (arm64 DBM: AP[2] cleared; x86: D set): the leaf the walk
   * ended at is rewritten with {@link PteFlags#DIRTY}, and the translation is filled dirty.
   *
   * <p>{@code // MODEL:} for a contiguous run only the descriptor walked is marked; the run's
   * TLB entry is dirty for the whole run (Linux ORs the run's dirty bits when it reads them).
   */
  private void markDirty(WalkResult walk) {
    PageTableFormat format = isa.pageTableFormat();
    long descriptor = memory.readDescriptor(walk.leafTablePfn, walk.leafIndex);
    int flags = format.flags(descriptor, walk.level) | PteFlags.DIRTY;
    memory.writeDescriptor(walk.leafTablePfn, walk.leafIndex, format.withFlags(descriptor, walk.level, flags));
    walk.flags |= PteFlags.DIRTY;
    stats.countHardwareDirtyUpdate();
  }

  private long faultAndRetry(Core c, long va, AccessKind kind, boolean permission) {
    if (!callFaultHandler(c.id(), va, kind, permission, -1)) {
      return -1;
    }
    // MODEL: the stale read-only entry is dropped locally before the retry, as the kernel's
    // fault path would flush it after upgrading the descriptor.
    invalidateCore(c, InvalidationScope.VA, va, va + 1, c.context().asid(), isa.maintenance().hasLastLevelOnly(false),
        true);
    return walkAndFill(c, va, kind);
  }

  private boolean callFaultHandler(int core, long va, AccessKind kind, boolean permission, int level) {
    stats.countFault();
    if (traceBus.wants(EventKind.FAULT)) {
      traceBus.publish(EventKind.FAULT, core, clocks.now(core), va, kind.ordinal(), level);
    }
    if (faultHandler == null || !faultHandler.handleFault(core, va, kind, permission)) {
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
      if (slot >= 0 && traceBus.wants(EventKind.TLB_FILL)) {
        traceBus.publish(EventKind.TLB_FILL, core, clocks.now(core), va, path[level].translate(slot, va),
            path[level].levelIndex());
      }
    }
    long pa = walk.basePa + (va & ((1L << walk.pageShift) - 1));
    history.record(pa >>> PhysicalMemory.FRAME_SHIFT, FrameEvent.TLB_FILLED, core, clocks.now(core), va, 0);
    return pa;
  }

  /**
   * Executes one invalidation instruction on {@code core} only: removes the matching entries
   * from its TLB levels and, unless {@code lastLevelOnly} and the ISA has such a form, its walk
   * caches; charges and counts the instruction under its ISA name. Whether {@code asid} is the
   * core's current tag may choose the instruction and what it removes (x86: INVLPG for the
   * current PCID, INVPCID type 0 for another, which keeps global entries).
   *
   * @param vaStart first VA of the range (ignored for address-space scopes)
   * @param vaEnd end of the range, exclusive
   */
  public void invalidateLocal(int core, InvalidationScope scope, long vaStart, long vaEnd, int asid,
      boolean lastLevelOnly) {
    MaintenanceInstructions instructions = isa.maintenance();
    boolean currentTag = cores[core].context().asid() == asid;
    countMaintenance(core, instructions.name(scope, lastLevelOnly, false, currentTag), scope, vaStart, asid);
    chargeMaintenance(core, instructions.issueCycles(scope, false, currentTag));
    applyInvalidation(core, false, instructions.effectiveScope(scope, false), vaStart, vaEnd, asid, lastLevelOnly,
        instructions.hasLastLevelOnly(false), instructions.byVaRemovesGlobal(currentTag));
  }

  /**
   * Writes {@code core}'s translation-context register (x86 {@code MOV CR3}): loads the user
   * root and the tag and, where the ISA's context write is maintenance, counts it under its
   * name, charges its cost and, when {@code flushTag}, removes the new tag's non-global TLB
   * and walk-cache entries. On an ISA whose context writes are not maintenance (arm64) only
   * the registers change.
   *
   * @param flushTag remove the new tag's entries (x86: CR3 bit 63 clear)
   */
  public void writeContext(int core, long userRootPa, int asid, boolean flushTag) {
    MaintenanceInstructions instructions = isa.maintenance();
    String name = instructions.contextWriteName(flushTag);
    Core c = cores[core];
    c.context().setUser(userRootPa, asid);
    if (name == null) {
      return;
    }
    countMaintenance(core, name, flushTag ? InvalidationScope.ASID : null, 0, asid);
    chargeMaintenance(core, instructions.contextWriteCycles(flushTag));
    if (flushTag) {
      invalidateCore(c, InvalidationScope.ASID, 0, 0, asid, false, false);
    }
  }

  /**
   * Executes one range invalidation (arm64 {@code TLBI RVAE1IS} and kin): like
   * {@link #invalidateLocal} or {@link #invalidateBroadcast} for every page of
   * {@code [vaStart, vaEnd)}, as one instruction.
   *
   * @param scope {@link InvalidationScope#VA} or {@link InvalidationScope#VA_ALL_ASIDS}
   * @throws IllegalStateException when the ISA, as configured, has no such range instruction
   * @throws IllegalArgumentException when one instruction cannot encode the range
   */
  public void invalidateRange(int core, InvalidationScope scope, long vaStart, long vaEnd, int asid,
      boolean lastLevelOnly, boolean broadcast) {
    MaintenanceInstructions instructions = isa.maintenance();
    String name = instructions.rangeName(scope, lastLevelOnly, broadcast);
    if (name == null) {
      throw new IllegalStateException(isa.id() + " has no range form of " + scope + " invalidation"
          + (broadcast ? " (broadcast)" : " (local)"));
    }
    if (!instructions.isEncodableRange(vaStart, vaEnd)) {
      throw new IllegalArgumentException("range [0x" + Long.toHexString(vaStart) + ", 0x" + Long.toHexString(vaEnd)
          + ") (expected: a range one " + name + " can encode)");
    }
    countMaintenance(core, name, scope, vaStart, asid);
    chargeMaintenance(core, instructions.issueCycles(scope, broadcast));
    applyInvalidation(core, broadcast, instructions.effectiveScope(scope, broadcast), vaStart, vaEnd, asid,
        lastLevelOnly, instructions.hasLastLevelOnly(broadcast), true);
  }

  /**
   * Executes one broadcast invalidation issued by {@code initiator}: every core's TLBs and walk
   * caches lose the matching entries.
   *
   * <p>{@code // MODEL:} the invalidation reaches every core at once, when issued; completion
   * timing (DSB waits) is the ISA layer's to charge.
   *
   * @throws IllegalStateException when the ISA has no broadcast invalidation
   */
  public void invalidateBroadcast(int initiator, InvalidationScope scope, long vaStart, long vaEnd, int asid,
      boolean lastLevelOnly) {
    MaintenanceInstructions instructions = isa.maintenance();
    if (!instructions.hasBroadcast()) {
      throw new IllegalStateException(isa.id() + " has no broadcast TLB invalidation");
    }
    countMaintenance(initiator, instructions.name(scope, lastLevelOnly, true), scope, vaStart, asid);
    chargeMaintenance(initiator, instructions.issueCycles(scope, true));
    applyInvalidation(initiator, true, instructions.effectiveScope(scope, true), vaStart, vaEnd, asid, lastLevelOnly,
        instructions.hasLastLevelOnly(true), instructions.byVaRemovesGlobal(true));
  }

  /**
   * The effect of an invalidation instruction once issued and paid for: a broadcast is timed on
   * the interconnect and reaches every core, a local one only the issuer; the table-update
   * checker (break-before-make) learns of it.
   *
   * @param lastLevelOnly the instruction's last-level form was asked for
   * @param hasLastLevelForm the ISA has such a form here (otherwise walk caches are dropped too)
   */
  private void applyInvalidation(int issuer, boolean broadcast, InvalidationScope effective, long vaStart,
      long vaEnd, int asid, boolean lastLevelOnly, boolean hasLastLevelForm, boolean byVaRemovesGlobal) {
    boolean keepWalkCaches = lastLevelOnly && hasLastLevelForm;
    if (broadcast) {
      noteBroadcastCompletion(issuer, isa.maintenance());
      for (Core target : cores) {
        invalidateCore(target, effective, vaStart, vaEnd, asid, keepWalkCaches, byVaRemovesGlobal);
      }
    } else {
      invalidateCore(cores[issuer], effective, vaStart, vaEnd, asid, keepWalkCaches, byVaRemovesGlobal);
    }
    if (tableChecker != null) {
      tableChecker.invalidated(issuer, effective, vaStart, vaEnd, asid, lastLevelOnly, broadcast);
    }
  }

  /**
   * Records when the broadcast {@code core} just issued completes everywhere: it enters the
   * interconnect when the interconnect is free (at most one per
   * {@link MaintenanceInstructions#broadcastIntervalCycles} from all cores), then takes the
   * ISA's completion time for this many cores.
   *
   * <p>{@code // MODEL:} one shared channel in issue order; kernel calls run atomically, so a
   * core's burst of TLBIs enters the channel before a later-scheduled core's, even when that
   * core's clock is behind.
   */
  private void noteBroadcastCompletion(int core, MaintenanceInstructions instructions) {
    long issued = clocks.now(core);
    long interval = instructions.broadcastIntervalCycles();
    long enters = issued;
    if (interval > 0) {
      enters = Math.max(issued, broadcastChannelFreeAt);
      broadcastChannelFreeAt = enters + interval;
    }
    long completes = enters + instructions.broadcastCompletionCycles(cores.length);
    outstandingBroadcastUntil[core] = Math.max(outstandingBroadcastUntil[core], completes);
  }

  /**
   * Executes a barrier on {@code core}: pays its cost and, for
   * {@link BarrierKind#BROADCAST_COMPLETE}, waits until every broadcast invalidation this core
   * issued has completed on every core.
   *
   * @return cycles the barrier took, its own cost and the wait
   * @throws IllegalStateException when the ISA has no such barrier
   */
  public long barrier(int core, BarrierKind kind) {
    MaintenanceInstructions instructions = isa.maintenance();
    String name = instructions.barrierName(kind);
    if (name == null) {
      throw new IllegalStateException(isa.id() + " has no " + kind + " barrier");
    }
    long start = clocks.now(core);
    stats.countInstruction(name);
    clocks.advance(core, instructions.barrierCycles(kind));
    if (kind == BarrierKind.BROADCAST_COMPLETE) {
      clocks.waitUntil(core, outstandingBroadcastUntil[core]);
      outstandingBroadcastUntil[core] = 0;
    }
    if (tableChecker != null) {
      tableChecker.barrier(core, kind);
    }
    if (traceBus.wants(EventKind.BARRIER)) {
      traceBus.publish(EventKind.BARRIER, core, clocks.now(core), 0, 0, InstructionNames.idOf(name));
    }
    stats.addComponentCycles(CycleComponent.BARRIERS, clocks.now(core) - start);
    return clocks.now(core) - start;
  }

  /**
   * Sends an inter-processor interrupt from {@code initiator} to each of {@code targets} and,
   * when {@code waitForAcks}, waits for the slowest acknowledgement.
   *
   * <p>The initiator pays the send cost per target, in order. A target takes the interrupt at
   * its next step boundary at or after the delivery time: a busy target (whose clock is already
   * at or past the initiator's, as the scheduler guarantees) pays the handler entry plus the
   * handler's own work on its clock; an idle target's clock first moves to the delivery time.
   * Each acknowledgement arrives {@code ackCycles} after its handler ends.
   *
   * <p>{@code // MODEL:} the handler's effects (the target's invalidations) happen when the IPI
   * is sent, not at the delivery time. No invalidation is ever applied later than on hardware,
   * and the kernel frees nothing before the acknowledgements, so no stale use is hidden.
   *
   * @param targets target cores; the initiator itself is skipped if present
   * @return the cycles the initiator spent, sending and waiting
   */
  public long sendIpis(int initiator, int[] targets, int targetCount, IpiHandler handler, boolean waitForAcks) {
    InterruptCosts costs = isa.interrupts();
    long start = clocks.now(initiator);
    long latestAck = start;
    for (int i = 0; i < targetCount; i++) {
      int target = targets[i];
      if (target == initiator) {
        continue;
      }
      clocks.advance(initiator, costs.sendCycles());
      stats.countIpis(1);
      if (traceBus.wants(EventKind.IPI_SEND)) {
        traceBus.publish(EventKind.IPI_SEND, initiator, clocks.now(initiator), target, 0, 0);
      }
      long delivery = clocks.now(initiator) + costs.deliveryCycles();
      if (idle[target]) {
        clocks.waitUntil(target, delivery);
      }
      long handlerStart = clocks.now(target);
      int previousActing = actingCore;
      actingCore = target;
      clocks.advance(target, costs.handlerEntryCycles());
      stats.addComponentCycles(CycleComponent.IPIS, costs.handlerEntryCycles());
      if (traceBus.wants(EventKind.IPI_RECEIVE)) {
        traceBus.publish(EventKind.IPI_RECEIVE, target, clocks.now(target), initiator, 0, 0);
      }
      handler.handle(target, initiator);
      actingCore = previousActing;
      long handlerCycles = clocks.now(target) - handlerStart;
      long ack = Math.max(handlerStart, delivery) + handlerCycles + costs.ackCycles();
      latestAck = Math.max(latestAck, ack);
    }
    lastIpiAcknowledgedCycle = latestAck;
    long sendCycles = clocks.now(initiator) - start;
    stats.addComponentCycles(CycleComponent.IPIS, sendCycles);
    if (waitForAcks) {
      waitForIpiAcknowledgements(initiator, latestAck);
    }
    return clocks.now(initiator) - start;
  }

  /**
   * Returns the cycle by which every target of the last {@link #sendIpis} call had acknowledged
   * (the sender's clock after sending when there was no target). An initiator that sent
   * without waiting, did its own share of the work, and then waits, waits until this cycle
   * (Linux runs the local flush between sending and waiting).
   */
  public long lastIpiAcknowledgedCycle() {
    return lastIpiAcknowledgedCycle;
  }

  /** Returns whether {@code core} has no more steps to run (or never had any). */
  public boolean isIdle(int core) {
    return idle[core];
  }

  /**
   * Counts a maintenance or barrier instruction by name and publishes it; {@code scope} is
   * null for an instruction that invalidates nothing (x86 MOV CR3 NOFLUSH), which is counted
   * but not published as an invalidation.
   */
  public void countMaintenance(int core, String instructionName, InvalidationScope scope, long va, int asid) {
    stats.countInstruction(instructionName);
    if (scope == InvalidationScope.ALL || scope == InvalidationScope.ALL_NON_GLOBAL || scope == InvalidationScope.ASID) {
      stats.countFullFlush();
    }
    if (scope != null && traceBus.wants(EventKind.INVALIDATE)) {
      boolean byVa = scope == InvalidationScope.VA || scope == InvalidationScope.VA_ALL_ASIDS;
      traceBus.publish(EventKind.INVALIDATE, core, clocks.now(core), byVa ? va : -1, asid,
          InstructionNames.idOf(instructionName));
    }
  }

  private void chargeMaintenance(int core, long cycles) {
    clocks.advance(core, cycles);
    stats.addComponentCycles(CycleComponent.TLB_MAINTENANCE, cycles);
  }

  /**
   * @param keepWalkCaches a last-level-only form the ISA has: walk caches are left alone
   * @param byVaRemovesGlobal a by-VA scope also removes global entries for the range
   */
  private void invalidateCore(Core c, InvalidationScope scope, long vaStart, long vaEnd, int asid,
      boolean keepWalkCaches, boolean byVaRemovesGlobal) {
    for (SetAssociativeTlb tlb : c.tlbLevels()) {
      applyTo(tlb, scope, vaStart, vaEnd, asid, byVaRemovesGlobal);
    }
    if (!keepWalkCaches) {
      InvalidationScope cacheScope = scope == InvalidationScope.VA
          && isa.maintenance().byVaDropsAllWalkCacheEntriesOfTheSpace() ? InvalidationScope.ASID : scope;
      for (WalkCache cache : c.walkCaches()) {
        if (cache != null) {
          applyTo(cache, cacheScope, vaStart, vaEnd, asid);
        }
      }
    }
  }

  private static void applyTo(SetAssociativeTlb tlb, InvalidationScope scope, long vaStart, long vaEnd, int asid,
      boolean byVaRemovesGlobal) {
    switch (scope) {
      case VA -> tlb.invalidateRange(vaStart, vaEnd, asid, false, byVaRemovesGlobal);
      case VA_ALL_ASIDS -> tlb.invalidateRange(vaStart, vaEnd, asid, true, byVaRemovesGlobal);
      case ASID -> tlb.invalidateSpace(asid, false, false);
      case ALL_NON_GLOBAL -> tlb.invalidateSpace(asid, true, false);
      case ALL -> tlb.invalidateSpace(asid, true, true);
      default -> throw new IllegalArgumentException("scope: " + scope);
    }
  }

  private static void applyTo(WalkCache cache, InvalidationScope scope, long vaStart, long vaEnd, int asid) {
    switch (scope) {
      case VA -> cache.invalidateRange(vaStart, vaEnd, asid, false, true);
      case VA_ALL_ASIDS -> cache.invalidateRange(vaStart, vaEnd, asid, true, true);
      case ASID -> cache.invalidateSpace(asid, false, false);
      case ALL_NON_GLOBAL -> cache.invalidateSpace(asid, true, false);
      case ALL -> cache.invalidateSpace(asid, true, true);
      default -> throw new IllegalArgumentException("scope: " + scope);
    }
  }

  /** Records a kernel mapping change of a frame in the history (for violation reports). */
  public void recordMapping(long pfn, long va, boolean mapped) {
    history.record(pfn, mapped ? FrameEvent.MAPPED : FrameEvent.UNMAPPED, actingCore, clocks.now(actingCore), va, 0);
  }

  private final class HistoryRecorder implements FrameListener {
    @Override
    public void frameAllocated(long pfn, FrameKind kind, long allocationStamp) {
      history.record(pfn, FrameEvent.ALLOCATED, actingCore, clocks.now(actingCore), 0, allocationStamp);
      if (traceBus.wants(EventKind.FRAME_ALLOC)) {
        traceBus.publish(EventKind.FRAME_ALLOC, actingCore, clocks.now(actingCore), pfn, allocationStamp, kind.ordinal());
      }
    }

    @Override
    public void frameFreed(long pfn, FrameKind previousKind) {
      history.record(pfn, FrameEvent.FREED, actingCore, clocks.now(actingCore), 0, 0);
      if (traceBus.wants(EventKind.FRAME_FREE)) {
        traceBus.publish(EventKind.FRAME_FREE, actingCore, clocks.now(actingCore), pfn, 0, previousKind.ordinal());
      }
    }
  }
}
