package org.mmuemu.core.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Determinism and simulated-time ordering of cross-core effects both rest on the scheduler's choice
 * of the next core. These tests record the exact order of steps of programs with different step
 * costs, and check the run-ahead bound a quantum allows.
 */
final class SchedulerTest {

  /** One step as observed: the core and its clock when the step started. */
  private record Step(int core, long startCycle) {}

  /**
   * A program that charges {@code costs[i % costs.length]} per step and stops after {@code steps}.
   */
  private static CoreProgram program(CoreClocks clocks, List<Step> log, int steps, long... costs) {
    int[] done = new int[1];
    return core -> {
      log.add(new Step(core, clocks.now(core)));
      clocks.advance(core, costs[done[0] % costs.length]);
      return ++done[0] < steps;
    };
  }

  @Test
  void quantumZero_runsTheSmallestClockFirst_tiesToTheLowerCoreId() {
    CoreClocks clocks = new CoreClocks(3);
    List<Step> log = new ArrayList<>();
    CoreProgram[] programs = {
      program(clocks, log, 4, 3), program(clocks, log, 4, 2), program(clocks, log, 4, 3)
    };

    long steps = new Scheduler(clocks, 0).run(programs, () -> false);

    // Worked by hand: core 1 is cheaper, so it gets ahead in steps; ties at 0, 3, 6 and 9 go to
    // the lower id.
    assertThat(log)
        .containsExactly(
            new Step(0, 0),
            new Step(1, 0),
            new Step(2, 0),
            new Step(1, 2),
            new Step(0, 3),
            new Step(2, 3),
            new Step(1, 4),
            new Step(0, 6),
            new Step(1, 6),
            new Step(2, 6),
            new Step(0, 9),
            new Step(2, 9));
    assertThat(steps).isEqualTo(12);
    assertThat(clocks.snapshot()).containsExactly(12, 8, 12);
  }

  /**
   * A core taken off the CPU until cycle 100 (a preempted task) lets the other core run its steps
   * starting at cycles 0 to 90 meanwhile, and comes back at 100, not at its clock when it slept.
   */
  @Test
  void sleepUntil_otherCoresRunMeanwhile_andTheSleeperResumesAtItsWakeCycle() {
    CoreClocks clocks = new CoreClocks(2);
    Scheduler scheduler = new Scheduler(clocks, 0);
    List<Step> log = new ArrayList<>();
    int[] left = {1, 10};
    CoreProgram[] programs = {
      core -> {
        clocks.advance(core, 5);
        scheduler.sleepUntil(core, 100);
        log.add(new Step(core, clocks.now(core)));
        return --left[core] > 0;
      },
      core -> {
        clocks.advance(core, 10);
        log.add(new Step(core, clocks.now(core)));
        return --left[core] > 0;
      }
    };

    scheduler.run(programs, () -> false);

    assertThat(log.subList(0, 10)).allSatisfy(step -> assertThat(step.core()).isEqualTo(1));
    assertThat(log).contains(new Step(0, 100));
    assertThat(log.indexOf(new Step(0, 100))).isEqualTo(10); // after core 1's step from 90
  }

  @Test
  void quantumZero_everyStepStartsAtTheSmallestLiveClock() {
    int cores = 4;
    CoreClocks clocks = new CoreClocks(cores);
    SplittableRandom random = new SplittableRandom(17);
    int[] remaining = {30, 50, 10, 40};
    List<String> problems = new ArrayList<>();
    CoreProgram[] programs = new CoreProgram[cores];
    for (int c = 0; c < cores; c++) {
      programs[c] =
          core -> {
            for (int other = 0; other < cores; other++) {
              boolean live = remaining[other] > 0;
              long mine = clocks.now(core);
              long theirs = clocks.now(other);
              if (other != core && live && (theirs < mine || (theirs == mine && other < core))) {
                problems.add(
                    "core "
                        + core
                        + " at "
                        + mine
                        + " stepped before core "
                        + other
                        + " at "
                        + theirs);
              }
            }
            clocks.advance(core, random.nextInt(1, 20));
            return --remaining[core] > 0;
          };
    }

    long steps = new Scheduler(clocks, 0).run(programs, () -> false);

    assertThat(problems).isEmpty();
    assertThat(steps).isEqualTo(130);
  }

  /**
   * On Java 21+ with {@code jdk.internal.vm} opened (the jar's manifest and the test JVMs do it),
   * the workers of a run are the JDK's continuations, all mounted on the thread that called {@code
   * run}: kernel calls that stop at interleaving points resume there, so a hand-over never involves
   * another host thread.
   */
  @Test
  void interleavingCalls_runAsContinuationsOnTheCallingThread() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Runtime.version().feature() >= 21, "no continuations before Java 21");
    CoreClocks clocks = new CoreClocks(2);
    Scheduler scheduler = new Scheduler(clocks, 0);
    List<Thread> threadsAfterHandOver = new ArrayList<>();
    List<Integer> order = new ArrayList<>();
    CoreProgram[] programs = new CoreProgram[2];
    for (int c = 0; c < 2; c++) {
      int[] left = {20};
      programs[c] =
          core -> {
            clocks.advance(core, 5 + core);
            scheduler.interleave(core); // the other core is now earlier: a hand-over
            order.add(core);
            threadsAfterHandOver.add(Thread.currentThread());
            return --left[0] > 0;
          };
    }

    scheduler.run(programs, () -> false);

    assertThat(threadsAfterHandOver).hasSize(40).containsOnly(Thread.currentThread());
    // the calls did interleave: neither core ran all its steps in one stretch
    assertThat(order.subList(0, 20)).contains(0, 1);
  }

  @Test
  void nullProgram_isACoreWithNothingToRun() {
    CoreClocks clocks = new CoreClocks(3);
    List<Step> log = new ArrayList<>();
    CoreProgram[] programs = {null, program(clocks, log, 2, 5), null};

    long steps = new Scheduler(clocks, 0).run(programs, () -> false);

    assertThat(steps).isEqualTo(2);
    assertThat(log).containsExactly(new Step(1, 0), new Step(1, 5));
  }

  @Test
  void positiveQuantum_letsACoreRunAheadOfTheNextByAtMostTheQuantum() {
    long quantum = 25;
    int cores = 3;
    CoreClocks clocks = new CoreClocks(cores);
    SplittableRandom random = new SplittableRandom(5);
    int[] remaining = {200, 150, 100};
    long[] largestLead = new long[1];
    List<String> problems = new ArrayList<>();
    CoreProgram[] programs = new CoreProgram[cores];
    for (int c = 0; c < cores; c++) {
      programs[c] =
          core -> {
            long mine = clocks.now(core);
            for (int other = 0; other < cores; other++) {
              if (other != core && remaining[other] > 0) {
                long lead = mine - clocks.now(other);
                largestLead[0] = Math.max(largestLead[0], lead);
                if (lead > quantum) {
                  problems.add(
                      "core "
                          + core
                          + " stepped at "
                          + mine
                          + ", "
                          + lead
                          + " ahead of core "
                          + other);
                }
              }
            }
            clocks.advance(core, random.nextInt(1, 10));
            return --remaining[core] > 0;
          };
    }

    new Scheduler(clocks, quantum).run(programs, () -> false);

    assertThat(problems).isEmpty();
    assertThat(largestLead[0]).as("the quantum is used").isGreaterThan(0);
  }

  @Test
  void positiveQuantum_runsAheadInBursts() {
    CoreClocks clocks = new CoreClocks(2);
    List<Step> log = new ArrayList<>();
    CoreProgram[] programs = {program(clocks, log, 100, 1), program(clocks, log, 100, 1)};

    new Scheduler(clocks, 10).run(programs, () -> false);

    // Core 0 steps while its clock is at most core 1's (0) plus 10: at 0..10, eleven steps.
    // Then core 1 steps at 0..21 (core 0 is at 11), twenty-two steps.
    assertThat(log.subList(0, 11)).allMatch(step -> step.core() == 0);
    assertThat(log.get(11)).isEqualTo(new Step(1, 0));
    assertThat(log.subList(11, 33)).allMatch(step -> step.core() == 1);
    assertThat(log.get(33)).isEqualTo(new Step(0, 11));
    assertThat(log).hasSize(200);
  }

  @Test
  void quantumZero_alternatesEqualCostCores() {
    CoreClocks clocks = new CoreClocks(2);
    List<Step> log = new ArrayList<>();
    CoreProgram[] programs = {program(clocks, log, 3, 1), program(clocks, log, 3, 1)};

    new Scheduler(clocks, 0).run(programs, () -> false);

    assertThat(log).extracting(Step::core).containsExactly(0, 1, 0, 1, 0, 1);
  }

  @Test
  void cancellation_stopsAnEndlessRunWithinAFewThousandSteps() {
    CoreClocks clocks = new CoreClocks(2);
    AtomicInteger executed = new AtomicInteger();
    CoreProgram endless =
        core -> {
          executed.incrementAndGet();
          clocks.advance(core, 1);
          return true;
        };

    long steps = new Scheduler(clocks, 0).run(new CoreProgram[] {endless, endless}, () -> true);

    assertThat(steps).isEqualTo(executed.get()).isPositive().isLessThanOrEqualTo(10_000);
  }

  @Test
  void cancellation_isHonouredWhenItIsRequestedMidRun() {
    CoreClocks clocks = new CoreClocks(1);
    AtomicInteger executed = new AtomicInteger();
    CoreProgram endless =
        core -> {
          executed.incrementAndGet();
          clocks.advance(core, 1);
          return true;
        };

    long steps =
        new Scheduler(clocks, 0).run(new CoreProgram[] {endless}, () -> executed.get() >= 20_000);

    assertThat(steps).isEqualTo(executed.get()).isBetween(20_000L, 30_000L);
  }

  @Test
  void negativeQuantum_isRejected() {
    assertThatThrownBy(() -> new Scheduler(new CoreClocks(1), -1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
