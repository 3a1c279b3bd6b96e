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

/**
 * The exhaustive search on two CPUs of two steps each: every interleaving once, and only the ones
 * within the preemption bound.
 */
final class ExhaustiveSearchTest {

  /** Runs every schedule the search gives and returns the step orders seen ("0011", ...). */
  private static List<String> orders(int maxPreemptions) {
    ExhaustiveSearch search = new ExhaustiveSearch(maxPreemptions);
    List<String> orders = new ArrayList<>();
    for (Schedule.RecordingPolicy policy = search.next(); policy != null; policy = search.next()) {
      CoreClocks clocks = new CoreClocks(2);
      Scheduler scheduler = new Scheduler(clocks, 0);
      scheduler.setSchedulePolicy(policy);
      StringBuilder order = new StringBuilder();
      CoreProgram[] programs = new CoreProgram[2];
      for (int cpu = 0; cpu < 2; cpu++) {
        int[] left = {2};
        programs[cpu] =
            core -> {
              order.append(core);
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
