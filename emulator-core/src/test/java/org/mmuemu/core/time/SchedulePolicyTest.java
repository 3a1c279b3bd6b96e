package org.mmuemu.core.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A schedule policy decides who runs at each point, and the scheduler keeps time causal whatever it
 * decides: a core switched to is first raised to the latest clock, so its steps never start before
 * something another core already did.
 */
final class SchedulePolicyTest {
  private record Step(int core, long startCycle) {}

  /** A program of {@code steps} steps of {@code cost} cycles, each with a named point inside. */
  private static CoreProgram program(
      Scheduler scheduler, CoreClocks clocks, List<Step> log, int steps, long cost) {
    int[] done = new int[1];
    return core -> {
      log.add(new Step(core, clocks.now(core)));
      clocks.advance(core, cost);
      scheduler.interleave(core, "middle", SchedulePolicy.PointKind.PREEMPTION);
      clocks.advance(core, cost);
      return ++done[0] < steps;
    };
  }

  @Test
  void aPolicyThatRunsCore1First_raisesCore0ToCore1sTime_whenItSwitchesBack() {
    CoreClocks clocks = new CoreClocks(2);
    Scheduler scheduler = new Scheduler(clocks, 0);
    List<Step> log = new ArrayList<>();
    List<String> points = new ArrayList<>();
    scheduler.setSchedulePolicy(
        choice -> {
          points.add(choice.stopped() + "@" + choice.point() + "/" + choice.kind());
          return choice.canRun(1) ? 1 : 0; // core 1 whenever it can run
        });
    CoreProgram[] programs = {
      program(scheduler, clocks, log, 2, 10), program(scheduler, clocks, log, 2, 100)
    };

    scheduler.run(programs, () -> false);

    // core 1 runs both its steps first (400 cycles); core 0 then starts at 400, not at 0
    assertThat(log)
        .containsExactly(new Step(1, 0), new Step(1, 200), new Step(0, 400), new Step(0, 420));
    assertThat(points).contains("-1@start/NONE", "1@middle/PREEMPTION", "1@step/STEP");
  }

  @Test
  void switchingInsideAStep_suspendsTheCall_andResumesItAfterTheOtherCore() {
    CoreClocks clocks = new CoreClocks(2);
    Scheduler scheduler = new Scheduler(clocks, 0);
    List<Step> log = new ArrayList<>();
    // core 0 first; at its point switch to core 1; afterwards, whoever stopped goes on
    scheduler.setSchedulePolicy(
        choice -> {
          if (choice.stopped() == 0 && choice.point().equals("middle") && log.size() == 1) {
            return 1;
          }
          return choice.stopped() >= 0 ? choice.stopped() : choice.earliest();
        });
    CoreProgram[] programs = {
      program(scheduler, clocks, log, 1, 10), program(scheduler, clocks, log, 1, 100)
    };

    scheduler.run(programs, () -> false);

    // core 1's step starts at core 0's point (cycle 10); core 0 finishes its step after core 1's
    assertThat(log).containsExactly(new Step(0, 0), new Step(1, 10));
    assertThat(clocks.now(1)).isEqualTo(210);
    assertThat(clocks.now(0)).isEqualTo(220); // resumed at 210, then its second 10 cycles
  }

  @Test
  void aPolicyThatPicksACoreThatCannotRun_failsTheRun() {
    CoreClocks clocks = new CoreClocks(2);
    Scheduler scheduler = new Scheduler(clocks, 0);
    scheduler.setSchedulePolicy(choice -> 5);
    CoreProgram[] programs = {core -> false, core -> false};

    assertThatThrownBy(() -> scheduler.run(programs, () -> false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chose core 5");
  }
}
