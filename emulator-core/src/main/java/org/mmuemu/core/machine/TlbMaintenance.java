package org.mmuemu.core.machine;

import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.isa.TableUpdateChecker;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.NameTable;
import org.mmuemu.core.trace.TraceBus;
import org.mmuemu.core.walk.WalkCache;

/**
 * TLB maintenance of one machine: executes invalidation instructions (local, broadcast, range),
 * translation-context writes and barriers, each named and priced by the ISA, and times broadcast
 * completion on the shared interconnect so that a completion barrier waits for it.
 *
 * <h3>The cycle model</h3>
 *
 * The issuing core pays the instruction's issue cost. A broadcast enters the interconnect when it
 * is free (at most one per {@link MaintenanceInstructions#broadcastIntervalCycles}) and has
 * completed on every core the ISA's completion time later; a {@link BarrierKind#BROADCAST_COMPLETE}
 * barrier waits until every broadcast of its core has.
 *
 * <p>Confined to the simulation thread; issuing allocates nothing.
 */
final class TlbMaintenance {
  private final Isa isa;
  private final MaintenanceInstructions instructions;
  private final Core[] cores;
  private final CoreClocks clocks;
  private final RunStats stats;
  private final TraceBus traceBus;
  private final TableUpdateChecker tableChecker;
  private final long[] outstandingBroadcastUntil;
  private final PendingInvalidations pending;
  private final PendingInvalidations.Applier applier = this::removeEntriesOf;
  private long broadcastChannelFreeAt;

  TlbMaintenance(
      Isa isa,
      Core[] cores,
      CoreClocks clocks,
      RunStats stats,
      TraceBus traceBus,
      TableUpdateChecker tableChecker) {
    this.isa = isa;
    this.instructions = isa.maintenance();
    this.cores = cores;
    this.clocks = clocks;
    this.stats = stats;
    this.traceBus = traceBus;
    this.tableChecker = tableChecker;
    this.outstandingBroadcastUntil = new long[cores.length];
    this.pending = new PendingInvalidations(cores.length);
  }

  /**
   * Applies every invalidation that has reached {@code core} by {@code cycle}: called before each
   * translation on the core (a single comparison when nothing is due) and when the core, or an
   * observer of it, reaches a later time.
   */
  void applyArrived(int core, long cycle) {
    if (pending.dueAt(core) <= cycle) {
      pending.applyDue(core, cycle, applier);
    }
  }

  /** Applies everything still pending on every core: the end of a run, when all has arrived. */
  void applyAllPending() {
    for (int core = 0; core < cores.length; core++) {
      applyArrived(core, Long.MAX_VALUE);
    }
  }

  /** Invalidations queued for {@code core} that have not reached it yet. */
  int pendingCount(int core) {
    return pending.pendingCount(core);
  }

  /**
   * Pending invalidations applied early because a core's queue was full (see {@code
   * PendingInvalidations}).
   */
  long pendingAppliedEarly() {
    return pending.appliedEarly();
  }

  /**
   * Executes one invalidation instruction issued by {@code core}: removes the matching entries from
   * the TLB levels and, unless the ISA's instruction keeps them, the walk caches of the issuer
   * (local) or of every core (broadcast); charges and counts the instruction under its ISA name.
   * For a local operation, whether {@code asid} is the core's current tag may choose the
   * instruction and what it removes (x86: INVLPG for the current PCID, INVPCID type 0 for another,
   * which keeps global entries).
   *
   * <p>The issuer's own TLBs change at once. Every other core's change is queued and lands when
   * that core's clock reaches the broadcast's completion; until then that core may still hit the
   * old entry (and the oracle judges that hit at the core's own time).
   *
   * <p>{@code // MODEL:} each target performs the broadcast at its completion time, the latest
   * moment the architecture allows (hardware reaches nearer cores earlier): the model keeps the
   * widest stale window the architecture permits, so every use it reports is one hardware may make.
   *
   * @param vaStart first VA of the range (ignored for address-space scopes)
   * @param vaEnd end of the range, exclusive
   * @throws IllegalStateException when the ISA, as configured, has no such instruction
   * @throws IllegalArgumentException when one instruction cannot encode the range
   */
  void invalidate(int core, Invalidation op, long vaStart, long vaEnd, int asid) {
    boolean currentTag = op.broadcast() || cores[core].context().asid() == asid;
    String name = instructions.name(op, currentTag); // an ISA may refuse here, saying why
    if (!instructions.supports(op, currentTag)) {
      throw new IllegalStateException(isa.id() + " has no " + op + " TLB invalidation");
    }
    if (op.scope().byVa() && !instructions.isEncodable(op, vaStart, vaEnd)) {
      throw new IllegalArgumentException(
          "range [0x"
              + Long.toHexString(vaStart)
              + ", 0x"
              + Long.toHexString(vaEnd)
              + ") (expected: a range one "
              + name
              + " can encode)");
    }
    countMaintenance(core, name, op.scope(), vaStart, asid);
    chargeMaintenance(core, instructions.issueCycles(op, currentTag));
    InvalidationScope effective = instructions.effectiveScope(op);
    boolean keepWalkCaches = instructions.keepsWalkCaches(op);
    boolean byVaRemovesGlobal = instructions.byVaRemovesGlobal(currentTag);
    applyLocally(core, effective, vaStart, vaEnd, asid, keepWalkCaches, byVaRemovesGlobal);
    if (op.broadcast()) {
      long completes = noteBroadcastCompletion(core);
      for (int target = 0; target < cores.length; target++) {
        if (target != core) {
          pending.add(
              target,
              completes,
              effective,
              vaStart,
              vaEnd,
              asid,
              keepWalkCaches,
              byVaRemovesGlobal,
              applier);
        }
      }
    }
    if (tableChecker != null) {
      tableChecker.invalidated(core, op.withScope(effective), vaStart, vaEnd, asid);
    }
  }

  /**
   * Writes {@code core}'s translation-context register (x86 {@code MOV CR3}): loads the user root
   * and the tag and, where the ISA's context write is maintenance, counts it under its name,
   * charges its cost and, when {@code flushTag}, removes the new tag's non-global TLB and
   * walk-cache entries. On an ISA whose context writes are not maintenance (arm64) only the
   * registers change.
   *
   * @param flushTag remove the new tag's entries (x86: CR3 bit 63 clear)
   */
  void writeContext(int core, long userRootPa, int asid, boolean flushTag) {
    String name = instructions.contextWriteName(flushTag);
    Core c = cores[core];
    c.context().setUser(userRootPa, asid);
    if (name == null) {
      return;
    }
    countMaintenance(core, name, flushTag ? InvalidationScope.ASID : null, 0, asid);
    chargeMaintenance(core, instructions.contextWriteCycles(flushTag));
    if (flushTag) {
      applyLocally(core, InvalidationScope.ASID, 0, 0, asid, false, false);
    }
  }

  /**
   * Executes a barrier on {@code core}: pays its cost and, for {@link
   * BarrierKind#BROADCAST_COMPLETE}, waits until every broadcast invalidation this core issued has
   * completed on every core.
   *
   * @return cycles the barrier took, its own cost and the wait
   * @throws IllegalStateException when the ISA has no such barrier
   */
  long barrier(int core, BarrierKind kind) {
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
      traceBus.publish(
          EventKind.BARRIER, core, clocks.now(core), 0, 0, NameTable.INSTRUCTIONS.idOf(name));
    }
    stats.addComponentCycles(CycleComponent.BARRIERS, clocks.now(core) - start);
    return clocks.now(core) - start;
  }

  private void chargeMaintenance(int core, long cycles) {
    clocks.advance(core, cycles);
    stats.addComponentCycles(CycleComponent.TLB_MAINTENANCE, cycles);
  }

  /**
   * Counts a maintenance or barrier instruction by name and publishes it; {@code scope} is null for
   * an instruction that invalidates nothing (x86 MOV CR3 NOFLUSH), which is counted but not
   * published as an invalidation.
   */
  private void countMaintenance(
      int core, String instructionName, InvalidationScope scope, long va, int asid) {
    stats.countInstruction(instructionName);
    if (scope != null && scope.wholeSpace()) {
      stats.countFullFlush();
    }
    if (scope != null && traceBus.wants(EventKind.INVALIDATE)) {
      traceBus.publish(
          EventKind.INVALIDATE,
          core,
          clocks.now(core),
          scope.byVa() ? va : -1,
          asid,
          NameTable.INSTRUCTIONS.idOf(instructionName));
    }
  }

  /**
   * Drops {@code core}'s entries for one page of the current address space without an instruction
   * (nothing counted or charged): what the fault path does to a stale read-only entry before it
   * retries.
   */
  void dropStalePage(Core core, long va) {
    boolean keepWalkCaches =
        instructions.keepsWalkCaches(
            Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true));
    removeEntries(
        core, InvalidationScope.VA, va, va + 1, core.context().asid(), keepWalkCaches, true);
  }

  /**
   * Records when the broadcast {@code core} just issued completes everywhere: it enters the
   * interconnect when the interconnect is free, then takes the ISA's completion time for this many
   * cores.
   *
   * <p>{@code // MODEL:} one shared channel in issue order; kernel calls run atomically, so a
   * core's burst of TLBIs enters the channel before a later-scheduled core's, even when that core's
   * clock is behind.
   */
  private long noteBroadcastCompletion(int core) {
    long issued = clocks.now(core);
    long interval = instructions.broadcastIntervalCycles();
    long enters = issued;
    if (interval > 0) {
      enters = Math.max(issued, broadcastChannelFreeAt);
      broadcastChannelFreeAt = enters + interval;
    }
    long completes = enters + instructions.broadcastCompletionCycles(cores.length);
    outstandingBroadcastUntil[core] = Math.max(outstandingBroadcastUntil[core], completes);
    return completes;
  }

  /** Applies an invalidation to the issuing core itself, at once. */
  private void applyLocally(
      int core,
      InvalidationScope scope,
      long vaStart,
      long vaEnd,
      int asid,
      boolean keepWalkCaches,
      boolean byVaRemovesGlobal) {
    removeEntries(cores[core], scope, vaStart, vaEnd, asid, keepWalkCaches, byVaRemovesGlobal);
  }

  private void removeEntriesOf(
      int core,
      InvalidationScope scope,
      long vaStart,
      long vaEnd,
      int asid,
      boolean keepWalkCaches,
      boolean byVaRemovesGlobal) {
    removeEntries(cores[core], scope, vaStart, vaEnd, asid, keepWalkCaches, byVaRemovesGlobal);
  }

  /**
   * @param keepWalkCaches a last-level-only form the ISA has: walk caches are left alone
   * @param byVaRemovesGlobal a by-VA scope also removes global entries for the range
   */
  private void removeEntries(
      Core c,
      InvalidationScope scope,
      long vaStart,
      long vaEnd,
      int asid,
      boolean keepWalkCaches,
      boolean byVaRemovesGlobal) {
    for (SetAssociativeTlb tlb : c.tlbLevels()) {
      applyTo(tlb, scope, vaStart, vaEnd, asid, byVaRemovesGlobal);
    }
    if (!keepWalkCaches) {
      InvalidationScope cacheScope =
          scope == InvalidationScope.VA && instructions.byVaDropsAllWalkCacheEntriesOfTheSpace()
              ? InvalidationScope.ASID
              : scope;
      for (WalkCache cache : c.walkCaches()) {
        if (cache != null) {
          applyTo(cache, cacheScope, vaStart, vaEnd, asid);
        }
      }
    }
  }

  private static void applyTo(
      SetAssociativeTlb tlb,
      InvalidationScope scope,
      long vaStart,
      long vaEnd,
      int asid,
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

  private static void applyTo(
      WalkCache cache, InvalidationScope scope, long vaStart, long vaEnd, int asid) {
    switch (scope) {
      case VA -> cache.invalidateRange(vaStart, vaEnd, asid, false, true);
      case VA_ALL_ASIDS -> cache.invalidateRange(vaStart, vaEnd, asid, true, true);
      case ASID -> cache.invalidateSpace(asid, false, false);
      case ALL_NON_GLOBAL -> cache.invalidateSpace(asid, true, false);
      case ALL -> cache.invalidateSpace(asid, true, true);
      default -> throw new IllegalArgumentException("scope: " + scope);
    }
  }
}
