package org.mmuemu.core.time;

import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;

/**
 * Runs the cores' programs deterministically in simulated time: whatever core has the earliest next
 * event runs, ties going to the lower core id. A core's next event is its clock when it can run
 * (between steps, or stopped at an interleaving point inside a kernel call); its wake-up time when
 * it waits (for a lock, for IPI acknowledgements) and someone has woken it; and the delivery time
 * of a pending interrupt for a core that waits or has no program left.
 *
 * <p>Steps (a user access, a kernel call) are no longer atomic: a kernel call stops at every
 * {@linkplain #interleave interleaving point} (lock acquire and release, named preemption points,
 * loop iterations, IPI sends) and, when another core is now earlier, lets that core run first. Such
 * a call keeps its Java stack on a worker (a continuation, or a host thread) that pauses until the
 * scheduler resumes it ({@link Baton}); calls that never stop, and plain user steps, all run on one
 * worker with no hand-over. Only the baton holder runs, so the interleaving depends on simulated
 * state alone and a run is byte-for-byte repeatable.
 *
 * <p>A quantum of {@code q > 0} cycles lets a core go on while its clock is at most q past the
 * next-earliest event: fewer switches, ordering exact only to within q cycles. Quantum 0 is exact
 * ordering at interleaving points.
 *
 * <p>In scenario and explore runs a {@link SchedulePolicy} picks the next core at every
 * interleaving point instead (see {@link #setSchedulePolicy}); a normal run has none.
 *
 * <p>Outside {@link #run} (set-up, tests driving calls by hand) interleaving points do nothing and
 * nothing may block.
 */
public final class Scheduler {
  private static final int CANCEL_CHECK_STEPS = 4096;
  private static final long NEVER = Long.MAX_VALUE;

  private static final byte READY = 0;
  private static final byte RUNNING = 1;
  private static final byte SUSPENDED = 2;
  private static final byte BLOCKED = 3;
  private static final byte DONE = 4;

  private final CoreClocks clocks;
  private final long quantumCycles;
  private final byte[] state;
  private final long[] wakeAtCycle;
  private final Baton.Worker[] carrier;
  private InterruptSource interrupts = InterruptSource.NONE;
  private SchedulePolicy policy;
  private final SchedulePolicy.Choice choice = new SchedulePolicy.Choice();
  private int pendingChoice = -1;
  private String idlePoint = "done";
  private int idleCore = -1;
  private boolean deliverEagerly;

  // One run's state; touched only by the baton holder.
  private CoreProgram[] programs;
  private BooleanSupplier cancelled;
  private Baton baton;
  private final ArrayDeque<Baton.Worker> freeWorkers = new ArrayDeque<>();
  private int workerCount;
  private long steps;
  private long handOvers;
  private boolean stopRequested;
  private Throwable failure;
  private int interruptDepth;
  private long stepsWithoutTime;
  private long eventsVersion;
  // The earliest core other than cachedExcept and its event time, valid while eventsVersion is
  // cachedVersion: while one core runs, the others' next events change only when something bumps
  // the version (a park, a wake-up, an interrupt posted or delivered, and every time a core starts
  // or resumes running, since others may have run meanwhile).
  private long cachedVersion = -1;
  private int cachedExcept = -1;
  private int cachedOther = -1;
  private long cachedOtherTime = NEVER;
  // What the last scan (earliest) found: its winner's event time, and the earliest other core and
  // its event time, which is what the winner's first mayContinue would scan for again once it runs
  // (nothing else changes in between); primedFor is the winner, or -1.
  private long earliestTime = NEVER;
  private int runnerUp = -1;
  private long runnerUpTime = NEVER;
  private int primedFor = -1;
  private int primedOther = -1;
  private long primedOtherTime = NEVER;
  // The READY core a parking worker chose for the free worker it hands the baton to, or -1.
  private int handedCore = -1;
  private static final long MAX_STEPS_WITHOUT_TIME = 1L << 20;

  /**
   * @param quantumCycles how far a core may run ahead of the next one; 0 or more
   */
  public Scheduler(CoreClocks clocks, long quantumCycles) {
    if (quantumCycles < 0) {
      throw new IllegalArgumentException("quantumCycles: " + quantumCycles + " (expected: >= 0)");
    }
    this.clocks = clocks;
    this.quantumCycles = quantumCycles;
    int cores = clocks.cores();
    this.state = new byte[cores];
    this.wakeAtCycle = new long[cores];
    this.carrier = new Baton.Worker[cores];
    java.util.Arrays.fill(state, DONE);
  }

  /** Installs the source of interrupts the scheduler delivers. */
  public void setInterruptSource(InterruptSource source) {
    this.interrupts = source == null ? InterruptSource.NONE : source;
  }

  /**
   * Installs the policy that picks the next core at every interleaving point (scenario and explore
   * runs), or removes it ({@code null}: the earliest next event runs, as in every normal run). At
   * most 64 cores; the quantum is ignored while a policy is installed.
   *
   * <p>{@code // MODEL:} a policy may pick a core whose clock is behind cores that already acted.
   * The picked core first waits until the latest clock of any core (it was descheduled meanwhile),
   * so nothing it does is stamped before an effect it may observe: every run a policy makes is a
   * run in which the cores' actions happen in that order in simulated time.
   */
  public void setSchedulePolicy(SchedulePolicy policy) {
    if (policy != null && state.length > 64) {
      throw new IllegalArgumentException(
          "a schedule policy handles at most 64 cores (this machine has " + state.length + ")");
    }
    this.policy = policy;
  }

  /** Whether a run is in progress (interleaving points and waits take effect). */
  public boolean running() {
    return baton != null;
  }

  /**
   * Runs until every program is done and no interrupt is pending, or {@code cancelled} answers
   * true.
   *
   * @param programs one per core; a null entry is a core with nothing to run
   * @param cancelled polled every few thousand steps
   * @return the number of steps taken
   * @throws IllegalStateException when every remaining core waits for something no core will do (a
   *     simulated deadlock)
   */
  public long run(CoreProgram[] programs, BooleanSupplier cancelled) {
    if (programs.length != state.length) {
      throw new IllegalArgumentException(
          "programs: " + programs.length + " (expected: one per core, " + state.length + ")");
    }
    this.programs = programs;
    this.cancelled = cancelled;
    this.steps = 0;
    this.handOvers = 0;
    this.stopRequested = false;
    this.failure = null;
    this.pendingChoice = -1;
    this.handedCore = -1;
    this.primedFor = -1;
    this.idlePoint = "start";
    this.idleCore = -1;
    this.deliverEagerly = false;
    for (int core = 0; core < state.length; core++) {
      state[core] = programs[core] == null ? DONE : READY;
      wakeAtCycle[core] = NEVER;
      carrier[core] = null;
    }
    baton = new Baton();
    try {
      baton.runAndJoin(newWorker());
    } finally {
      baton = null;
      freeWorkers.clear();
      this.programs = null;
      this.cancelled = null;
    }
    if (failure != null) {
      rethrow(failure);
    }
    return steps;
  }

  private static void rethrow(Throwable failure) {
    if (failure instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (failure instanceof Error error) {
      throw error;
    }
    throw new IllegalStateException(failure);
  }

  /**
   * An interleaving point of {@code core}'s running kernel call: takes the interrupts due on the
   * core and, when another core's next event is now earlier (beyond the quantum), lets it run
   * first; returns once {@code core} is again the earliest. Does nothing outside a run and inside
   * an interrupt handler.
   */
  public void interleave(int core) {
    interleave(core, "interleave", SchedulePolicy.PointKind.OTHER);
  }

  /**
   * A point that exists only to keep time causal: before an effect other cores observe without a
   * lock (a page-table write their walks read), or after this core's clock jumped ahead (a wait for
   * a release made in a stretch that ran ahead). Every core that is earlier runs up to this core's
   * time first, so the effect is not visible to them before it is made.
   *
   * <p>{@code // MODEL:} under a {@linkplain #setSchedulePolicy schedule policy} (a scenario's
   * order, the explorer) it is not a choice point and does nothing: those runs order cores by their
   * choices at the named and lock points, and adding a choice before every page-table write would
   * multiply the schedules without adding a race Linux has there (the writes are under the PTE
   * lock, whose acquire already is a point).
   */
  public void catchUp(int core) {
    if (policy != null) {
      return;
    }
    interleave(core, "catch_up", SchedulePolicy.PointKind.OTHER);
  }

  /**
   * Like {@link #interleave(int)}, at a point a {@linkplain #setSchedulePolicy schedule policy} can
   * address by {@code point} (a constant: nothing is built here).
   */
  public void interleave(int core, String point, SchedulePolicy.PointKind kind) {
    if (baton == null || interruptDepth > 0) {
      return;
    }
    deliverDueOn(core);
    if (policy != null) {
      state[core] = SUSPENDED;
      int chosen = choose(core, point, kind);
      if (chosen == core) {
        state[core] = RUNNING;
        raiseToHorizon(core);
        deliverDueOn(core);
        return;
      }
      pendingChoice = chosen;
      park(core);
      return;
    }
    if (mayContinue(core)) {
      return;
    }
    state[core] = SUSPENDED;
    park(core);
  }

  /**
   * Blocks {@code core}'s running call until another core {@linkplain #wake wakes} it; returns with
   * the core's clock at or after the wake-up time. Interrupts due on the core meanwhile are
   * delivered at their time.
   *
   * @throws IllegalStateException outside a run or inside an interrupt handler
   */
  public void block(int core) {
    parkBlocked(core, NEVER, "blocked");
  }

  /**
   * Takes {@code core}'s running call off the CPU until {@code untilCycle} (a task preempted by
   * another one): other cores run meanwhile, and interrupts due on the core are delivered at their
   * time, as the task that has the CPU takes them. Returns with the core's clock at {@code
   * untilCycle} or later.
   *
   * @throws IllegalStateException outside a run or inside an interrupt handler
   */
  public void sleepUntil(int core, long untilCycle) {
    parkBlocked(core, untilCycle, "preempted");
  }

  private void parkBlocked(int core, long wakeCycle, String point) {
    if (baton == null || interruptDepth > 0) {
      throw new IllegalStateException("core " + core + " cannot wait outside a scheduled run");
    }
    state[core] = BLOCKED;
    wakeAtCycle[core] = wakeCycle;
    idlePoint = point;
    idleCore = core;
    deliverEagerly = policy != null;
    park(core);
  }

  /** Lets the blocked {@code core} go on at {@code atCycle} (or its clock, if later). */
  public void wake(int core, long atCycle) {
    if (state[core] != BLOCKED) {
      throw new IllegalStateException("core " + core + " is not waiting");
    }
    wakeAtCycle[core] = atCycle;
    eventsVersion++;
  }

  /** Tells the scheduler that an interrupt was queued for some core (its next event may move). */
  public void interruptPosted() {
    eventsVersion++;
  }

  // The baton moves to another worker: a host-side switch (counted; it does not change a result).
  private void handTo(Baton.Worker next) {
    if (next != baton.current()) {
      handOvers++;
    }
    baton.handTo(next);
  }

  /**
   * How many times the last run moved the baton between workers: a paused kernel call's worker to
   * another, and back. Host cost only: what exact ordering costs this run on this JVM.
   */
  public long handOvers() {
    return handOvers;
  }

  /**
   * What the workers of a run are on this JVM: {@code continuation} (Java 21+), {@code virtual}
   * threads or {@code platform} threads.
   */
  public static String workerKind() {
    return Baton.workerKind();
  }

  private void park(int core) {
    eventsVersion++;
    Baton.Worker self = baton.current();
    carrier[core] = self;
    dispatch();
    baton.await(self);
    carrier[core] = null;
    state[core] = RUNNING;
    deliverDueOn(core);
  }

  /**
   * Passes control on from a worker that carries a stopped core: straight to another stopped core's
   * carrier when that core is next, else to a free worker that runs the scheduler loop.
   * Interrupt-only events run here first (handlers never stop).
   */
  private void dispatch() {
    int chosen = nextToRun();
    if (chosen < 0) {
      return;
    }
    if (state[chosen] == READY) {
      if (policy != null) {
        pendingChoice = chosen; // the worker's loop asks again: the policy has answered already
      } else {
        handedCore = chosen;
      }
      handTo(freeWorkers.isEmpty() ? newWorker() : freeWorkers.pop());
    } else {
      resumeOn(chosen);
      handTo(carrier[chosen]);
    }
  }

  /** The scheduler loop, on a worker with no core of its own. */
  private void loop(Baton.Worker self) {
    while (true) {
      if (stopRequested || failure != null) {
        baton.finish(true);
        return;
      }
      int chosen = handedCore;
      handedCore = -1;
      if (chosen < 0) {
        chosen = nextToRun();
      }
      if (chosen < 0) {
        return;
      }
      if (state[chosen] == READY) {
        runSteps(chosen);
        continue;
      }
      resumeOn(chosen);
      freeWorkers.push(self);
      handTo(carrier[chosen]);
      return;
    }
  }

  /**
   * The core to run next, after running every interrupt that is the next event of a core that
   * cannot run itself; -1 when the run is over (or deadlocked), which it then ends.
   */
  private int nextToRun() {
    if (policy != null) {
      return nextByPolicy();
    }
    while (true) {
      int chosen = earliest(-1);
      if (chosen < 0) {
        deadlockOrEnd();
        return -1;
      }
      if (!runInterruptEvent(chosen)) {
        primedFor = chosen;
        primedOther = runnerUp;
        primedOtherTime = runnerUpTime;
        return chosen;
      }
    }
  }

  private void runSteps(int core) {
    eventsVersion++; // other cores may have run since this core last looked at them
    usePrimed(core);
    while (true) {
      deliverDueOn(core);
      state[core] = RUNNING;
      long before = clocks.now(core);
      boolean more = programs[core].step(core);
      steps++;
      checkProgress(core, before, more);
      state[core] = more ? READY : DONE;
      if (steps % CANCEL_CHECK_STEPS == 0 && cancelled.getAsBoolean()) {
        stopRequested = true;
        return;
      }
      if (!more) {
        idlePoint = "done";
        idleCore = core;
        return;
      }
      if (policy != null) {
        int chosen = choose(core, "step", SchedulePolicy.PointKind.STEP);
        if (chosen != core) {
          pendingChoice = chosen;
          return;
        }
        raiseToHorizon(core);
        continue;
      }
      if (!mayContinue(core)) {
        return;
      }
    }
  }

  /**
   * Policy mode: the core to run next, made ready to run at or after the latest clock. Interrupt
   * events of cores that cannot run (idle, or waiting with no wake-up) due by then run first; when
   * no core can run, the earliest such event runs, and when there is none the run ends.
   */
  private int nextByPolicy() {
    int chosen = pendingChoice;
    pendingChoice = -1;
    while (runPendingInterrupt(deliverEagerly)) {
      // each runs at its delivery time on its own core
    }
    deliverEagerly = false;
    if (chosen < 0 || !runnable(chosen)) {
      while (candidates() == 0) {
        int earliest = earliest(-1);
        if (earliest < 0 || !runInterruptEvent(earliest)) {
          deadlockOrEnd();
          return -1;
        }
      }
      chosen = choose(-1, idlePoint, SchedulePolicy.PointKind.NONE);
    }
    if (state[chosen] == BLOCKED) {
      wakeAtCycle[chosen] = Math.max(wakeAtCycle[chosen], horizon());
    } else {
      raiseToHorizon(chosen);
    }
    return chosen;
  }

  /**
   * Policy mode: runs the earliest interrupt pending on a core that is not about to resume (every
   * core but a woken waiter, which takes its interrupts when it resumes), at its delivery time: one
   * due by the latest clock or, with {@code any}, any. Returns whether one ran.
   *
   * <p>{@code // MODEL:} when a core blocks (an IPI initiator waiting for acknowledgements, a lock
   * waiter), every pending interrupt is delivered before the policy picks the next core: the
   * targets take their IPIs at once, wherever they stopped (an interleaving point has interrupts
   * enabled), so a schedule cannot starve an initiator by never running its targets.
   */
  private boolean runPendingInterrupt(boolean any) {
    long limit = any ? NEVER - 1 : horizon();
    int target = -1;
    long at = NEVER;
    for (int core = 0; core < state.length; core++) {
      if (state[core] == BLOCKED && wakeAtCycle[core] != NEVER) {
        continue;
      }
      long delivery = interrupts.nextDeliveryCycle(core);
      if (delivery <= limit && delivery < at) {
        target = core;
        at = delivery;
      }
    }
    if (target < 0) {
      return false;
    }
    clocks.waitUntil(target, at);
    deliverDueOn(target);
    return true;
  }

  private boolean runnable(int core) {
    byte s = state[core];
    return s == READY || s == SUSPENDED || (s == BLOCKED && wakeAtCycle[core] != NEVER);
  }

  private long candidates() {
    long mask = 0;
    for (int core = 0; core < state.length; core++) {
      if (runnable(core)) {
        mask |= 1L << core;
      }
    }
    return mask;
  }

  /** Asks the policy; {@code stopped} (or -1) is runnable already. */
  private int choose(int stopped, String point, SchedulePolicy.PointKind kind) {
    long mask = candidates();
    if (stopped >= 0) {
      mask |= 1L << stopped;
    }
    int earliest = -1;
    long earliestTime = NEVER;
    for (int core = 0; core < state.length; core++) {
      if ((mask & (1L << core)) != 0) {
        long time = core == stopped ? clocks.now(core) : eventTime(core);
        if (earliest < 0 || time < earliestTime) {
          earliest = core;
          earliestTime = time;
        }
      }
    }
    choice.stopped = stopped;
    choice.point = point;
    choice.kind = kind;
    choice.candidates = mask;
    choice.earliest = earliest;
    choice.idled = kind == SchedulePolicy.PointKind.NONE ? idleCore : -1;
    if (kind == SchedulePolicy.PointKind.NONE) {
      idleCore = -1;
      idlePoint = "resume";
    }
    int chosen = policy.choose(choice);
    if (chosen < 0 || chosen >= 64 || (mask & (1L << chosen)) == 0) {
      throw new IllegalStateException(
          "schedule policy chose core " + chosen + " at " + point + ", which cannot run now");
    }
    return chosen;
  }

  /** The latest clock of any core: the time of the last thing any core did. */
  private long horizon() {
    return clocks.max();
  }

  private void raiseToHorizon(int core) {
    eventsVersion++;
    clocks.waitUntil(core, horizon());
  }

  /**
   * A program whose steps never advance its clock while it stays the earliest core would spin
   * forever (a workload polling for something only a later core can do): fail instead of hanging.
   */
  private void checkProgress(int core, long clockBefore, boolean more) {
    if (!more || clocks.now(core) != clockBefore) {
      stepsWithoutTime = 0;
      return;
    }
    if (++stepsWithoutTime > MAX_STEPS_WITHOUT_TIME) {
      throw new IllegalStateException(
          "core "
              + core
              + " took "
              + MAX_STEPS_WITHOUT_TIME
              + " steps at cycle "
              + clockBefore
              + " without its clock advancing (a program polling without paying for it)");
    }
  }

  private void resumeOn(int core) {
    eventsVersion++;
    if (state[core] == BLOCKED) {
      clocks.waitUntil(core, wakeAtCycle[core]);
      wakeAtCycle[core] = NEVER;
    }
    usePrimed(core);
  }

  /**
   * Makes the scan that chose {@code core} the answer of its next {@link #mayContinue}: only the
   * chosen core has changed since (its own clock, when it wakes), which that answer leaves out.
   */
  private void usePrimed(int core) {
    if (primedFor == core) {
      cachedVersion = eventsVersion;
      cachedExcept = core;
      cachedOther = primedOther;
      cachedOtherTime = primedOtherTime;
    }
    primedFor = -1;
  }

  /**
   * Runs the interrupt that is {@code core}'s next event when the core cannot run itself (it waits,
   * or its program is done); returns whether it did.
   */
  private boolean runInterruptEvent(int core) {
    byte s = state[core];
    if (s != BLOCKED && s != DONE) {
      return false;
    }
    long delivery = interrupts.nextDeliveryCycle(core);
    if (delivery == NEVER
        || (s == BLOCKED && wakeTime(core) <= Math.max(clocks.now(core), delivery))) {
      return false;
    }
    clocks.waitUntil(core, delivery);
    deliverDueOn(core);
    return true;
  }

  private void deliverDueOn(int core) {
    if (interrupts.nextDeliveryCycle(core) <= clocks.now(core)) {
      eventsVersion++;
      interruptDepth++;
      try {
        interrupts.deliverDue(core);
      } finally {
        interruptDepth--;
      }
    }
  }

  private long wakeTime(int core) {
    long wake = wakeAtCycle[core];
    return wake == NEVER ? NEVER : Math.max(clocks.now(core), wake);
  }

  private long eventTime(int core) {
    switch (state[core]) {
      case READY:
      case SUSPENDED:
      case RUNNING:
        return clocks.now(core);
      case BLOCKED:
        {
          long delivery = interrupts.nextDeliveryCycle(core);
          long interrupt = delivery == NEVER ? NEVER : Math.max(clocks.now(core), delivery);
          return Math.min(wakeTime(core), interrupt);
        }
      default:
        {
          long delivery = interrupts.nextDeliveryCycle(core);
          return delivery == NEVER ? NEVER : Math.max(clocks.now(core), delivery);
        }
    }
  }

  /** The core with the earliest event other than {@code except}, ties to the lower id; or -1. */
  private int earliest(int except) {
    int chosen = -1;
    long chosenTime = NEVER;
    int second = -1;
    long secondTime = NEVER;
    for (int core = 0; core < state.length; core++) {
      if (core == except) {
        continue;
      }
      long time = eventTime(core);
      if (time < chosenTime) {
        second = chosen;
        secondTime = chosenTime;
        chosen = core;
        chosenTime = time;
      } else if (time < secondTime) {
        second = core;
        secondTime = time;
      }
    }
    earliestTime = chosenTime;
    runnerUp = second;
    runnerUpTime = secondTime;
    return chosen;
  }

  /**
   * Whether the running {@code core} is still first (or within the quantum of the next core). The
   * earliest other core is reused while the version is unchanged (a single-core replay pays one
   * comparison per step, and a kernel call passing many points in a row scans the cores once).
   */
  private boolean mayContinue(int core) {
    if (cachedVersion != eventsVersion || cachedExcept != core) {
      cachedVersion = eventsVersion;
      cachedExcept = core;
      cachedOther = earliest(core);
      cachedOtherTime = earliestTime;
    }
    if (cachedOther < 0) {
      return true;
    }
    long theirs = cachedOtherTime;
    int other = cachedOther;
    long mine = clocks.now(core);
    if (quantumCycles > 0) {
      return mine <= theirs + quantumCycles;
    }
    return mine < theirs || (mine == theirs && core < other);
  }

  private void deadlockOrEnd() {
    StringBuilder waiting = new StringBuilder();
    for (int core = 0; core < state.length; core++) {
      if (state[core] == BLOCKED) {
        waiting.append(waiting.length() == 0 ? "" : ", ").append(core);
      }
    }
    if (waiting.length() > 0 && failure == null) {
      failure =
          new IllegalStateException(
              "simulated deadlock: cores " + waiting + " wait for something no core will do");
    }
    baton.finish(failure != null);
  }

  private Baton.Worker newWorker() {
    Baton.Worker[] self = new Baton.Worker[1];
    self[0] = baton.newWorker(() -> workerBody(self[0]), "mmuemu-cpu-worker-" + workerCount++);
    return self[0];
  }

  private void workerBody(Baton.Worker self) {
    try {
      while (baton.awaitWork(self)) {
        loop(self);
      }
    } catch (Baton.Abandoned unwound) {
      // a parked kernel call unwound because the run was abandoned
    } catch (Throwable t) {
      if (failure == null) {
        failure = t;
      }
      baton.finish(true);
    }
  }
}
