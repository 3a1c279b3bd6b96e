package org.mmuemu.kernel.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.time.CoreClocks;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.core.time.Scheduler;
import org.mmuemu.core.trace.EventKind;

/**
 * The exhaustive search on two CPUs of two steps each: every interleaving once, and only the ones
 * within the preemption bound.
 */
final class ExhaustiveSearchTest {

  /** Runs every schedule the search gives and returns the step orders seen ("0011", ...). */
  private static List<String> orders(int maxPreemptions) {
    return orders(new ExhaustiveSearch(maxPreemptions, false), 2, core -> 0);
  }

  /**
   * Runs every schedule of {@code search} on two CPUs of {@code steps} steps each, where each step
   * of CPU c stores to the frame {@code frameOf.applyAsLong(c)}, told to the search's recorder as a
   * TLB hit; returns the step orders seen.
   */
  private static List<String> orders(
      ExhaustiveSearch search, int steps, IntToLongFunction frameOf) {
    List<String> orders = new ArrayList<>();
    for (Schedule.RecordingPolicy policy = search.next(); policy != null; policy = search.next()) {
      CoreClocks clocks = new CoreClocks(2);
      Scheduler scheduler = new Scheduler(clocks, 0);
      scheduler.setSchedulePolicy(policy);
      SegmentRecorder segments = policy.segments();
      if (segments != null) {
        segments.attach(2, () -> false);
      }
      StringBuilder order = new StringBuilder();
      CoreProgram[] programs = new CoreProgram[2];
      for (int cpu = 0; cpu < 2; cpu++) {
        int[] left = {steps};
        programs[cpu] =
            core -> {
              order.append(core);
              if (segments != null) {
                segments.stepStarts(core, false);
                long pa = frameOf.applyAsLong(core) << 12;
                segments.onEvent(EventKind.TLB_HIT, core, clocks.now(core), 0x1000, pa, 0);
                segments.stepEnds(core);
              }
              clocks.advance(core, 10);
              return --left[0] > 0;
            };
      }
      scheduler.run(programs, () -> false);
      search.finished(policy);
      orders.add(order.toString());
      assertThat(orders.size()).as("runaway search").isLessThan(100);
    }
    return orders;
  }

  /** The set of steps each CPU ran before each step of the other: the run's partial order. */
  private static Set<String> partialOrders(List<String> orders) {
    Set<String> classes = new LinkedHashSet<>();
    for (String order : orders) {
      classes.add(order); // with dependent steps every order is its own class
    }
    return classes;
  }

  @Test
  void sleepSets_dependentSteps_runEveryScheduleWithinTheBound() {
    for (int bound = 0; bound <= 3; bound++) {
      List<String> reduced = orders(new ExhaustiveSearch(bound, true), 2, core -> 7);
      assertThat(reduced).as("bound " + bound).isEqualTo(orders(bound));
    }
  }

  @Test
  void sleepSets_independentSteps_pruneReorderings_andCountThem() {
    ExhaustiveSearch reduced = new ExhaustiveSearch(8, true);
    List<String> orders = orders(reduced, 2, core -> 100 + core);
    List<String> full = orders(new ExhaustiveSearch(8, false), 2, core -> 100 + core);
    assertThat(full).hasSize(6);
    // every order reaches the same state: fewer schedules, the unpreempted one among them
    assertThat(orders).hasSizeLessThan(full.size()).contains("0011");
    assertThat(full).containsAll(orders);
    assertThat(reduced.prunedBranches()).isPositive();
  }

  @Test
  void sleepSets_aStepTouchingTheOtherCpusFrame_wakesTheSleeper() {
    // CPU 0 touches frame 1, CPU 1 frame 1 too only on... both steps: the same as dependent
    List<String> reduced = orders(new ExhaustiveSearch(8, true), 2, core -> 1);
    assertThat(partialOrders(reduced))
        .containsExactlyInAnyOrder("0011", "0101", "0110", "1001", "1010", "1100");
  }

  @Test
  void unbounded_runsEveryInterleavingOnce() {
    List<String> orders = orders(8);
    Set<String> distinct = new LinkedHashSet<>(orders);
    assertThat(distinct).hasSameSizeAs(orders);
    assertThat(distinct).containsExactlyInAnyOrder("0011", "0101", "0110", "1001", "1010", "1100");
    assertThat(orders.get(0)).as("the unpreempted schedule first").isEqualTo("0011");
  }

  @Test
  void noPreemptions_leavesOnlyTheChoiceOfWhoStarts() {
    assertThat(orders(0)).containsExactly("0011", "1100");
  }

  @Test
  void onePreemption_addsTheSchedulesWithOneSwitchAwayFromARunnableCpu() {
    assertThat(orders(1)).containsExactlyInAnyOrder("0011", "0110", "1100", "1001");
  }
}
