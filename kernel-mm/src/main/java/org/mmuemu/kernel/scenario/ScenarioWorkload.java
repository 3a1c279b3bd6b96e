package org.mmuemu.kernel.scenario;

import java.util.List;
import java.util.Map;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.core.time.SchedulePolicy;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.workload.Workload;
import org.mmuemu.kernel.workload.WorkloadArgs;
import org.mmuemu.kernel.workload.WorkloadException;
import org.mmuemu.kernel.workload.WorkloadParam;

/**
 * A scenario as a workload, so that it runs through the same path as {@code mmuemu run} (result
 * JSON, trace): {@link #prepare} runs the setup steps on the booted kernel, gives each CPU its
 * program and installs the schedule policy (the scripted order, a schedule to replay, or an explore
 * strategy) with a narrator around it.
 *
 * <p>One instance per run: it keeps the run's narrative.
 */
public final class ScenarioWorkload implements Workload {
  private final Scenario scenario;
  private final SchedulePolicy policy;
  private final boolean detailed;
  private final Narrative narrative = new Narrative();
  private ScenarioContext context;

  /**
   * @param policy what picks the next core at each point; {@link #scripted} or {@link #replaying}
   *     for the usual cases
   */
  public ScenarioWorkload(Scenario scenario, SchedulePolicy policy) {
    this(scenario, policy, false);
  }

  /**
   * @param detailed whether the narrative also tells what happens inside the steps (nested kernel
   *     calls, faults, IPIs, invalidations, barriers), for a run a user reads
   */
  private ScenarioWorkload(Scenario scenario, SchedulePolicy policy, boolean detailed) {
    this.scenario = scenario;
    this.policy = policy;
    this.detailed = detailed;
  }

  /** The scenario under its scripted order (the earliest core runs where it has none). */
  public static ScenarioWorkload scripted(Scenario scenario) {
    return new ScenarioWorkload(scenario, new ScriptedOrder(scenario.order()), true);
  }

  /** The scenario under a recorded schedule. */
  public static ScenarioWorkload replaying(Scenario scenario, Schedule schedule) {
    return new ScenarioWorkload(scenario, schedule.replay(), true);
  }

  @Override
  public String name() {
    return "scenario:" + scenario.name();
  }

  @Override
  public String description() {
    return scenario.description();
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of();
  }

  /** What happened, in order. */
  public Narrative narrative() {
    return narrative;
  }

  /**
   * What of the schedule did not fit the run, each described: the scripted order's entries never
   * reached (a point misspelt, or one the CPU does not pass in this variant), or a replayed
   * schedule's choices that could not be followed or were left over; empty under other policies.
   */
  public List<String> scheduleNotes() {
    if (policy instanceof ScriptedOrder order) {
      return order.unreached();
    }
    return policy instanceof Schedule.Replay replay ? replay.notes() : List.of();
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int cpus = scenario.programs().size();
    if (cpus > machine.coreCount()) {
      throw new WorkloadException(
          "scenario "
              + scenario.name()
              + ": /programs has "
              + cpus
              + " CPUs but the machine has "
              + machine.coreCount()
              + " cores");
    }
    if (machine.coreCount() > 64) {
      throw new WorkloadException(
          "scenario "
              + scenario.name()
              + ": at most 64 cores (the machine has "
              + machine.coreCount()
              + ")");
    }
    context = new ScenarioContext(kernel, narrative);
    for (int core = 0; core < machine.coreCount(); core++) {
      kernel.switchToKernelThread(core);
    }
    for (ScenarioStep step : scenario.setup()) {
      int cpu = step.args().containsKey("cpu") ? ((Number) step.args().get("cpu")).intValue() : 0;
      if (cpu < 0 || cpu >= machine.coreCount()) {
        throw new WorkloadException(
            step.pointer()
                + "/cpu: "
                + cpu
                + " (expected: a core of the machine, 0 to "
                + (machine.coreCount() - 1)
                + ")");
      }
      // Setup steps happen one after another: each starts once the one before it has finished,
      // whichever CPU ran it (a CPU must not use a process another CPU has yet to create).
      machine.clocks().waitUntil(cpu, machine.clocks().max());
      machine.actOn(cpu);
      ScenarioOps.run(context, cpu, step);
    }
    if (!scenario.setup().isEmpty()) {
      long setupEnd = machine.clocks().max();
      for (int core = 0; core < machine.coreCount(); core++) {
        machine.clocks().waitUntil(core, setupEnd);
      }
    }
    SegmentRecorder segments =
        policy instanceof Schedule.RecordingPolicy recording ? recording.segments() : null;
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int cpu = 0; cpu < cpus; cpu++) {
      List<ScenarioStep> steps = scenario.programs().get(cpu);
      if (!steps.isEmpty()) {
        programs[cpu] = program(steps, segments);
      }
    }
    if (detailed) {
      machine.traceBus().addSink(new NarrativeSink(narrative)); // the setup's details are noise
    }
    if (segments != null) {
      segments.attach(machine);
    }
    machine.setSchedulePolicy(new Narrator(policy, machine, narrative));
    return PreparedWorkload.of(programs, Map.of(), Map::of);
  }

  private CoreProgram program(List<ScenarioStep> steps, SegmentRecorder segments) {
    int[] next = {0};
    return core -> {
      ScenarioStep step = steps.get(next[0]++);
      if (segments != null) {
        segments.stepStarts(core, !ScenarioOps.isUserAccess(step));
      }
      ScenarioOps.run(context, core, step);
      if (segments != null) {
        segments.stepEnds(core);
      }
      return next[0] < steps.size();
    };
  }

  /** Tells the narrative where the schedule switched CPUs. */
  private static final class Narrator implements SchedulePolicy {
    private final SchedulePolicy inner;
    private final Machine machine;
    private final Narrative narrative;

    Narrator(SchedulePolicy inner, Machine machine, Narrative narrative) {
      this.inner = inner;
      this.machine = machine;
      this.narrative = narrative;
    }

    @Override
    public int choose(Choice choice) {
      int chosen = inner.choose(choice);
      int from = choice.stopped() >= 0 ? choice.stopped() : choice.idled();
      if (chosen != from && from >= 0) {
        String where =
            choice.kind() != PointKind.NONE
                ? "stops at " + choice.point()
                : choice.point().equals("blocked") ? "waits" : choice.point();
        narrative.add(machine.now(from), from, where + "; cpu" + chosen + " runs");
      }
      return chosen;
    }
  }
}
