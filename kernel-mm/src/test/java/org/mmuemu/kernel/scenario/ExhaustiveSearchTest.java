package org.mmuemu.kernel.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
    return orders(new ExhaustiveSearch(maxPreemptions, false), new long[][] {{0, 0}, {0, 0}});
  }

  /**
   * Runs every schedule of {@code search} on two CPUs where step i of CPU c stores to frame {@code
   * frames[c][i]}, told to the search's recorder as a TLB hit; returns the step orders seen.
   */
  private static List<String> orders(ExhaustiveSearch search, long[][] frames) {
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
        int[] done = {0};
        programs[cpu] =
            core -> {
              order.append(core);
              if (segments != null) {
                segments.stepStarts(core, false);
                long pa = frames[core][done[0]] << 12;
                segments.onEvent(EventKind.TLB_HIT, core, clocks.now(core), 0x1000, pa, 0);
                segments.stepEnds(core);
              }
              clocks.advance(core, 10);
              return ++done[0] < frames[core].length;
            };
      }
      scheduler.run(programs, () -> false);
      search.finished(policy);
      orders.add(order.toString());
      assertThat(orders.size()).as("runaway search").isLessThan(1000);
    }
    return orders;
  }

  /**
   * The equivalence classes the orders fall in (Mazurkiewicz traces): for every pair of steps of
   * the two CPUs that touch one frame, which of the two ran first.
   */
  private static Set<String> classes(List<String> orders, long[][] frames) {
    Set<String> classes = new LinkedHashSet<>();
    for (String order : orders) {
      int[] position = new int[2];
      int[][] at = {new int[frames[0].length], new int[frames[1].length]};
      for (int i = 0; i < order.length(); i++) {
        int core = order.charAt(i) - '0';
        at[core][position[core]++] = i;
      }
      StringBuilder key = new StringBuilder();
      for (int i = 0; i < frames[0].length; i++) {
        for (int j = 0; j < frames[1].length; j++) {
          if (frames[0][i] == frames[1][j]) {
            key.append(at[0][i] < at[1][j] ? '<' : '>');
          }
        }
      }
      classes.add(key.toString());
    }
    return classes;
  }

  /**
   * Sleep sets cover every class the full bounded search covers, for every bound, and never run
   * more schedules; with independent steps they run fewer.
   */
  @Test
  void sleepSets_coverEveryClassTheBoundedSearchCovers_withFewerSchedules() {
    long[][][] programs = {
      {{7, 7}, {7, 7}}, // every pair dependent
      {{100, 101}, {200, 201}}, // nothing dependent
      {{100, 200, 300}, {200, 400, 100}}, // two dependent pairs
      {{1, 2, 3}, {4, 5, 3}}, // only the last steps
      // within one preemption, 110001 (CPU 0's first step is independent of CPU 1's first two)
      // is the only schedule of its class; letting CPU 0 sleep after the start, where nothing was
      // preempted, would cover it by 011001, which needs two
      {{1, 0, 0}, {0, 0, 0}}
    };
    boolean prunedSome = false;
    for (long[][] frames : programs) {
      for (int bound = 0; bound <= 3; bound++) {
        List<String> full = orders(new ExhaustiveSearch(bound, false), frames);
        ExhaustiveSearch search = new ExhaustiveSearch(bound, true);
        List<String> reduced = orders(search, frames);
        String what = java.util.Arrays.deepToString(frames) + " bound " + bound;
        assertThat(classes(reduced, frames)).as(what).isEqualTo(classes(full, frames));
        assertThat(full).as(what).containsAll(reduced);
        assertThat(reduced.size()).as(what).isLessThanOrEqualTo(full.size());
        assertThat(search.prunedBranches() > 0).as(what).isEqualTo(reduced.size() < full.size());
        prunedSome |= reduced.size() < full.size();
      }
    }
    assertThat(prunedSome).isTrue();
  }

  @Test
  void sleepSets_dependentSteps_runEveryScheduleWithinTheBound() {
    long[][] frames = {{7, 7}, {7, 7}};
    for (int bound = 0; bound <= 3; bound++) {
      assertThat(orders(new ExhaustiveSearch(bound, true), frames))
          .as("bound " + bound)
          .isEqualTo(orders(bound));
    }
  }

  @Test
  void sleepSets_independentSteps_runOneScheduleOfEachStart() {
    ExhaustiveSearch reduced = new ExhaustiveSearch(8, true);
    List<String> orders = orders(reduced, new long[][] {{100, 101}, {200, 201}});
    assertThat(orders(8)).hasSize(6);
    assertThat(orders).hasSizeLessThan(6).startsWith("0011");
    assertThat(reduced.prunedBranches()).isPositive();
  }

  @Test
  void footprints_kernelAndTimeDependOnEverything_framesOnlyOnAShared() {
    Footprint user0 = user(0, 100);
    Footprint user1 = user(1, 200);
    assertThat(user0.independent(user1)).isTrue();
    assertThat(user0.independent(user(1, 100))).isFalse();
    assertThat(user0.independent(user(0, 300))).as("one core").isFalse();
    Footprint kernel = user(1, 300);
    kernel.kernel();
    assertThat(user0.independent(kernel)).isFalse();
    Footprint timed = user(1, 300);
    timed.time();
    assertThat(timed.independent(user0)).isFalse();
    Footprint walked0 = user(0, 100);
    walked0.walked();
    Footprint walked1 = user(1, 200);
    walked1.walked();
    assertThat(walked0.independent(user1)).isTrue();
    assertThat(walked0.independent(walked1)).isFalse();
  }

  private static Footprint user(int core, long pfn) {
    Footprint footprint = new Footprint();
    footprint.ranOn(core);
    footprint.frame(pfn);
    return footprint;
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
