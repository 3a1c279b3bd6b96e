package org.mmuemu.core.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.TableUpdateChecker;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.FrameListener;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.metrics.CycleComponent;
import org.mmuemu.core.metrics.RunStats;
import org.mmuemu.core.oracle.FrameHistory;
import org.mmuemu.core.oracle.FrameHistory.FrameEvent;
import org.mmuemu.core.oracle.Oracle;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.core.time.SchedulePolicy;
import org.mmuemu.core.time.Scheduler;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceBus;
import org.mmuemu.core.walk.PageWalker;

/**
 * The simulated machine: cores with their clocks, TLB hierarchies and walk caches, physical memory
 * holding the page tables, the walker, the trace bus, the run statistics and the oracle, wired
 * together, and the scheduler loop that runs the cores' programs.
 *
 * <p>The work is split along the lines gem5 and Linux draw, into package-private parts: the {@code
 * TranslationPath} (lookup, walk, fill, the oracle's check of every hit), {@code TlbMaintenance}
 * (invalidations with broadcast completion timing, context writes, barriers) and {@code Interrupts}
 * (IPI send, delivery, acknowledgement). The machine's methods of the same names are what the
 * kernel calls; each one hands the call to its part.
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
  private final TraceBus traceBus = new TraceBus();
  private final RunStats stats = new RunStats();
  private final FrameHistory history = new FrameHistory(HISTORY_EVENTS);
  private final Oracle oracle = new Oracle(history, MAX_RECORDED_VIOLATIONS);
  private final CoreActivity activity;
  private final TlbMaintenance maintenance;
  private final TranslationPath translation;
  private final Interrupts interrupts;
  private final Scheduler scheduler;
  private IntConsumer idleListener;
  private final int[] nodeOfCore;

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
    PageWalker walker =
        new PageWalker(isa.pageTableFormat(), isa.regime(), memory, spec.walker(), oracle);
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
    this.activity = new CoreActivity(cores.length);
    this.nodeOfCore = spec.nodeOfCore();
    if (spec.numaNodes().size() > 1) {
      long[] framesPerNode = new long[spec.numaNodes().size()];
      for (int node = 0; node < framesPerNode.length; node++) {
        framesPerNode[node] =
            spec.numaNodes().get(node).memoryBytes() >>> PhysicalMemory.FRAME_SHIFT;
      }
      memory.setNodes(framesPerNode, () -> nodeOfCore[activity.actingCore()]);
    }
    memory.setListener(new HistoryRecorder());
    TableUpdateChecker tableChecker = isa.newTableUpdateChecker(memory, oracle, cores.length);
    if (tableChecker != null) {
      memory.setDescriptorWriteListener(
          (tablePfn, index, previous, next) ->
              tableChecker.descriptorWritten(
                  activity.actingCore(),
                  clocks.now(activity.actingCore()),
                  tablePfn,
                  index,
                  previous,
                  next));
    }
    this.maintenance = new TlbMaintenance(isa, cores, clocks, stats, traceBus, tableChecker);
    this.translation =
        new TranslationPath(
            cores,
            memory,
            clocks,
            walker,
            isa.pageTableFormat(),
            traceBus,
            stats,
            oracle,
            history,
            maintenance,
            spec.accessCycles());
    this.scheduler = new Scheduler(clocks, spec.quantumCycles());
    this.interrupts =
        new Interrupts(isa.interrupts(), clocks, stats, traceBus, activity, maintenance, scheduler);
    scheduler.setInterruptSource(interrupts);
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

  /** The NUMA node {@code core} belongs to (0 on a machine of one node). */
  public int nodeOfCore(int core) {
    return nodeOfCore[core];
  }

  public int coreCount() {
    return cores.length;
  }

  /**
   * Returns core {@code id} as an observer at the acting core's clock sees it: every invalidation
   * that has reached it by then (or by its own clock, if later) is applied first. This is how a
   * check that inspects other cores' TLBs (kernel-mm's {@code UNFLUSHED_ALIAS} checks) judges each
   * core at the time of the check.
   *
   * <p>{@code // MODEL:} the checks interleave first, so every running core is at or past the
   * check's time; a waiting or idle core may still be behind it, and for such a core the
   * invalidations that arrived between its clock and the check's are applied early (it runs nothing
   * in that interval, so nothing it could hit is lost).
   */
  public Core core(int id) {
    maintenance.applyArrived(id, Math.max(clocks.now(activity.actingCore()), clocks.now(id)));
    return cores[id];
  }

  /**
   * Invalidations on their way to {@code core} (issued elsewhere, not arrived at its clock yet).
   */
  public int pendingInvalidations(int core) {
    return maintenance.pendingCount(core);
  }

  /**
   * Whether anything is on its way whose effect depends on when a core looks: an invalidation not
   * yet arrived at some core, an interrupt not yet delivered, or an initiator still waiting for IPI
   * acknowledgements. The explorer's partial-order reduction treats any segment that starts or ends
   * while this holds as dependent with every other (see docs/scenarios.md).
   */
  public boolean timedEffectsPending() {
    for (int core = 0; core < cores.length; core++) {
      if (maintenance.pendingCount(core) > 0
          || interrupts.nextDeliveryCycle(core) != Long.MAX_VALUE
          || interrupts.awaitingAcknowledgements(core)) {
        return true;
      }
    }
    return false;
  }

  /** Pending invalidations applied before their arrival because a core's queue was full. */
  public long pendingInvalidationsAppliedEarly() {
    return maintenance.pendingAppliedEarly();
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
    return translation.unresolvedFaults();
  }

  /**
   * Installs what runs, as the acting core, when a core's program has no more steps (the kernel
   * switching that CPU to its idle task: Linux's lazy TLB mode on x86).
   */
  public void setIdleListener(IntConsumer listener) {
    this.idleListener = listener;
  }

  /** Installs the kernel's fault handler. */
  public void setFaultHandler(FaultHandler handler) {
    translation.setFaultHandler(handler);
  }

  /** The core whose step is running: the owner of frame events and kernel work. */
  public int actingCore() {
    return activity.actingCore();
  }

  /** Charges {@code cycles} of kernel work to {@code core}. */
  public void charge(int core, long cycles) {
    clocks.advance(core, cycles);
    stats.addComponentCycles(CycleComponent.KERNEL_WORK, cycles);
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
      activity.setIdle(i, program == null);
      wrapped[i] =
          program == null
              ? null
              : core -> {
                activity.act(core);
                boolean more = program.step(core);
                activity.setIdle(core, !more);
                if (!more && idleListener != null) {
                  maintenance.applyArrived(core, clocks.now(core));
                  idleListener.accept(core);
                }
                return more;
              };
    }
    long steps = scheduler.run(wrapped, cancelled);
    maintenance.applyAllPending(); // every broadcast has arrived once the run is over
    return steps;
  }

  /**
   * How many times the last {@link #run} handed the host thread between workers (a kernel call
   * paused at an interleaving point, another core's work, and back): host cost, not a result.
   */
  public long handOvers() {
    return scheduler.handOvers();
  }

  /**
   * What runs the cores' work on this JVM: {@code continuation}, {@code virtual} or {@code
   * platform}.
   */
  public static String workerKind() {
    return Scheduler.workerKind();
  }

  /**
   * An interleaving point of the kernel call {@code core} is running (a lock acquire or release, a
   * named preemption point, an iteration of a long loop, an IPI send): interrupts due on the core
   * are taken, and any core whose next event is earlier runs first. Nothing happens outside {@link
   * #run} or inside an interrupt handler.
   */
  public void interleave(int core) {
    scheduler.interleave(core);
    activity.act(core);
  }

  /**
   * {@link #interleave(int)} at a point a scenario's order or the explorer can address by name
   * (loop iterations, checks): pass a constant, so nothing is built on the way.
   */
  public void interleave(int core, String point) {
    scheduler.interleave(core, point, SchedulePolicy.PointKind.OTHER);
    activity.act(core);
  }

  /**
   * A timing-only interleaving point ({@link org.mmuemu.core.time.Scheduler#catchUp}): before a
   * page-table write other cores' walks may read, and after a wait that moved the core's clock.
   */
  public void catchUp(int core) {
    scheduler.catchUp(core);
    activity.act(core);
  }

  /** {@link #interleave(int)} before a lock is looked at; {@code point} is {@code lock:<name>}. */
  public void lockPoint(int core, String point) {
    scheduler.interleave(core, point, SchedulePolicy.PointKind.LOCK);
    activity.act(core);
  }

  /** {@link #interleave(int)} at a named preemption point (a window Linux leaves open). */
  public void preemptionPoint(int core, String point) {
    scheduler.interleave(core, point, SchedulePolicy.PointKind.PREEMPTION);
    activity.act(core);
  }

  /**
   * Lets {@code policy} pick the next core at every interleaving point of the next runs (scenario
   * and explore mode), or restores the earliest-event rule ({@code null}); see {@link
   * Scheduler#setSchedulePolicy}.
   */
  public void setSchedulePolicy(SchedulePolicy policy) {
    scheduler.setSchedulePolicy(policy);
  }

  /**
   * Blocks {@code core}'s kernel call until another core {@linkplain #wake wakes} it (a lock
   * released to it); interrupts due meanwhile are taken at their time.
   *
   * @throws IllegalStateException outside {@link #run}
   */
  public void block(int core) {
    scheduler.block(core);
    activity.act(core);
  }

  /**
   * Takes {@code core}'s call off the CPU until {@code untilCycle}: other cores run, interrupts are
   * taken at their time ({@link Scheduler#sleepUntil}).
   *
   * @throws IllegalStateException outside {@link #run}
   */
  public void sleepUntil(int core, long untilCycle) {
    scheduler.sleepUntil(core, untilCycle);
    activity.act(core);
  }

  /** Lets the blocked {@code core} go on at {@code atCycle} (or its own clock, if later). */
  public void wake(int core, long atCycle) {
    scheduler.wake(core, atCycle);
  }

  /** Whether {@link #run} is in progress, so that cores interleave and may block. */
  public boolean scheduling() {
    return scheduler.running();
  }

  /** Makes {@code core} the acting core, for work done outside {@link #run} (set-up, tests). */
  public void actOn(int core) {
    activity.act(core);
  }

  /** Returns whether {@code core} has no more steps to run (or never had any). */
  public boolean isIdle(int core) {
    return activity.isIdle(core);
  }

  /**
   * Performs one access: translates each 4 KiB page the bytes touch, in address order, then pays
   * the access cost once (the cycle model is {@code TranslationPath}'s).
   *
   * @param sizeBytes bytes accessed, at least 1
   * @return whether every page translated (false after an unresolved fault)
   */
  public boolean access(int core, long va, int sizeBytes, AccessKind kind) {
    return translation.access(core, va, sizeBytes, kind);
  }

  /**
   * A speculative walk of {@code va} on {@code core}: none when a TLB already holds it, else a walk
   * that fills the TLB; not an access, so a TLB hit is not checked as a use ({@code
   * TranslationPath.speculativeWalk}).
   */
  public void speculativeWalk(int core, long va) {
    translation.speculativeWalk(core, va);
  }

  /**
   * Translates {@code va} for {@code kind} on {@code core}, charging every lookup, walk and fault
   * to the core's clock; every TLB hit is checked by the oracle. Allocates nothing.
   *
   * @return the physical address, or -1 when a fault was not resolved
   */
  public long translate(int core, long va, AccessKind kind) {
    return translation.translate(core, va, kind);
  }

  /**
   * Executes one invalidation instruction issued by {@code core}, named and priced by the ISA, on
   * the issuer's TLBs and walk caches or, for a broadcast, on every core's; a broadcast's
   * completion is what a {@link BarrierKind#BROADCAST_COMPLETE} barrier waits for (see {@code
   * TlbMaintenance.invalidate}).
   *
   * @param vaStart first VA of the range (ignored for address-space scopes)
   * @param vaEnd end of the range, exclusive
   * @throws IllegalStateException when the ISA, as configured, has no such instruction
   * @throws IllegalArgumentException when one instruction cannot encode the range
   */
  public void invalidate(int core, Invalidation op, long vaStart, long vaEnd, int asid) {
    maintenance.invalidate(core, op, vaStart, vaEnd, asid);
  }

  /**
   * Writes {@code core}'s translation-context register (x86 {@code MOV CR3}): loads the user root
   * and tag and, where the ISA counts the write as maintenance, charges it and, when {@code
   * flushTag}, removes the new tag's non-global entries.
   */
  public void writeContext(int core, long userRootPa, int asid, boolean flushTag) {
    maintenance.writeContext(core, userRootPa, asid, flushTag);
  }

  /**
   * Executes a barrier on {@code core}; {@link BarrierKind#BROADCAST_COMPLETE} waits until every
   * broadcast invalidation this core issued has completed on every core.
   *
   * @return cycles the barrier took, its own cost and the wait
   * @throws IllegalStateException when the ISA has no such barrier
   */
  public long barrier(int core, BarrierKind kind) {
    long cycles = maintenance.barrier(core, kind);
    if (kind == BarrierKind.BROADCAST_COMPLETE) {
      interleave(
          core,
          "barrier:complete"); // the wait let other cores' time pass: they catch up before we go on
    }
    return cycles;
  }

  /**
   * Sends an IPI from {@code initiator} to each of the first {@code targetCount} {@code targets}
   * (the initiator itself skipped); each handler runs on its target when the target reaches the
   * delivery time, and the initiator waits for the last acknowledgement when {@code waitForAcks}
   * (see {@code Interrupts} for the timing).
   *
   * @return the cycles the initiator spent, sending and waiting
   */
  public long sendIpis(
      int initiator, int[] targets, int targetCount, IpiHandler handler, boolean waitForAcks) {
    long spent = interrupts.sendIpis(initiator, targets, targetCount, handler, waitForAcks);
    activity.act(initiator);
    return spent;
  }

  /**
   * Makes {@code core} wait until every IPI it sent has been acknowledged, for an initiator that
   * sent without waiting and did its own share meanwhile; the wait counts as IPI cycles in the
   * run's cycle breakdown.
   */
  public void waitForIpiAcknowledgements(int core) {
    interrupts.waitForAcknowledgements(core);
    activity.act(core);
  }

  /** Whether {@code core} has sent IPIs that are not acknowledged yet. */
  public boolean awaitingIpiAcknowledgements(int core) {
    return interrupts.awaitingAcknowledgements(core);
  }

  /** Records a kernel mapping change of a frame in the history (for violation reports). */
  public void recordMapping(long pfn, long va, boolean mapped) {
    int core = activity.actingCore();
    history.record(
        pfn, mapped ? FrameEvent.MAPPED : FrameEvent.UNMAPPED, core, clocks.now(core), va, 0);
  }

  private final class HistoryRecorder implements FrameListener {
    @Override
    public void frameAllocated(long pfn, FrameKind kind, long allocationStamp) {
      int core = activity.actingCore();
      history.record(pfn, FrameEvent.ALLOCATED, core, clocks.now(core), 0, allocationStamp);
      if (traceBus.wants(EventKind.FRAME_ALLOC)) {
        traceBus.publish(
            EventKind.FRAME_ALLOC, core, clocks.now(core), pfn, allocationStamp, kind.ordinal());
      }
    }

    @Override
    public void frameFreed(long pfn, FrameKind previousKind) {
      int core = activity.actingCore();
      history.record(pfn, FrameEvent.FREED, core, clocks.now(core), 0, 0);
      oracle.frees().recordFree(pfn, memory.allocationStamp(pfn), clocks.now(core));
      if (traceBus.wants(EventKind.FRAME_FREE)) {
        traceBus.publish(
            EventKind.FRAME_FREE, core, clocks.now(core), pfn, 0, previousKind.ordinal());
      }
    }
  }
}
