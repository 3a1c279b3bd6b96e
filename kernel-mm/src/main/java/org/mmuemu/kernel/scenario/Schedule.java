package org.mmuemu.kernel.scenario;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.mmuemu.core.time.SchedulePolicy;

/**
 * A schedule: the core chosen at each decision of a scenario run, counting only decisions with more
 * than one core able to run. Written as runs of {@code core:count} joined by commas ({@code
 * 0:14,1:6,0:3}); replaying it on the same scenario, variant and machine gives the same run. Past
 * its end the earliest core runs.
 */
public final class Schedule {
  private final int[] choices;

  private Schedule(int[] choices) {
    this.choices = choices;
  }

  static Schedule of(int[] choices, int length) {
    return new Schedule(Arrays.copyOf(choices, length));
  }

  /** Decisions made. */
  public int length() {
    return choices.length;
  }

  /**
   * Parses the {@code core:count,...} form.
   *
   * @throws IllegalArgumentException saying what is wrong and what was expected
   */
  public static Schedule parse(String text) {
    String trimmed = text.trim();
    if (trimmed.isEmpty()) {
      return new Schedule(new int[0]);
    }
    int[] out = new int[16];
    int n = 0;
    for (String run : trimmed.split(",")) {
      String[] parts = run.trim().split(":");
      int core;
      long count;
      try {
        core = Integer.parseInt(parts[0].trim());
        count = parts.length == 1 ? 1 : Long.parseLong(parts[1].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(badRun(run));
      }
      if (parts.length > 2 || core < 0 || core >= 64 || count < 1 || n + count > 10_000_000) {
        throw new IllegalArgumentException(badRun(run));
      }
      while (out.length < n + count) {
        out = Arrays.copyOf(out, out.length * 2);
      }
      Arrays.fill(out, n, n + (int) count, core);
      n += (int) count;
    }
    return new Schedule(Arrays.copyOf(out, n));
  }

  private static String badRun(String run) {
    return "\""
        + run.trim()
        + "\" (expected: runs of core:count such as 0:12,1:3, a core 0 to 63,"
        + " a count of at least 1)";
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < choices.length) {
      int j = i;
      while (j < choices.length && choices[j] == choices[i]) {
        j++;
      }
      sb.append(sb.length() == 0 ? "" : ",").append(choices[i]).append(':').append(j - i);
      i = j;
    }
    return sb.toString();
  }

  /** A policy that replays this schedule, then lets the earliest core run. */
  Replay replay() {
    return new Replay();
  }

  /**
   * Replays the schedule; where a choice names a core that cannot run there (the schedule was made
   * for another scenario, variant or machine) the earliest core runs instead, and {@link #notes}
   * says so.
   */
  final class Replay extends RecordingPolicy {
    private int next;
    private int firstMismatch = -1;
    private int mismatchedCore;

    @Override
    int pick(SchedulePolicy.Choice choice) {
      if (next < choices.length) {
        int core = choices[next++];
        if (choice.canRun(core)) {
          return core;
        }
        if (firstMismatch < 0) {
          firstMismatch = next;
          mismatchedCore = core;
        }
      }
      return choice.earliest();
    }

    /** What did not fit the run, each one line; empty when the schedule replayed as written. */
    List<String> notes() {
      List<String> notes = new ArrayList<>();
      if (firstMismatch >= 0) {
        notes.add(
            "schedule: choice "
                + firstMismatch
                + " names cpu"
                + mismatchedCore
                + ", which could not run there; the earliest cpu ran instead (the schedule was"
                + " made for another scenario, variant or machine)");
      }
      if (next < choices.length) {
        notes.add(
            "schedule: the run ended after " + next + " of its " + choices.length + " choices");
      }
      return notes;
    }
  }

  /**
   * A policy that records the choices it makes where more than one core could run, so that the run
   * it made can be written down as a {@link Schedule}.
   */
  abstract static class RecordingPolicy implements SchedulePolicy {
    private int[] made = new int[64];
    private int count;

    @Override
    public final int choose(Choice choice) {
      if (Long.bitCount(choice.candidates()) < 2) {
        int only = Long.numberOfTrailingZeros(choice.candidates());
        decided(only);
        return only;
      }
      int core = pick(choice);
      if (count == made.length) {
        made = Arrays.copyOf(made, count * 2);
      }
      made[count++] = core;
      decided(core);
      return core;
    }

    /** Told of every decision, also those with one candidate, after it was made. */
    void decided(int core) {}

    /** What records the footprints of the run's segments, or null when nothing does. */
    SegmentRecorder segments() {
      return null;
    }

    /** Chooses among two or more candidates. */
    abstract int pick(Choice choice);

    /** The choices made so far, as a schedule. */
    Schedule schedule() {
      return Schedule.of(made, count);
    }

    /** Decisions made so far. */
    int decisions() {
      return count;
    }
  }
}
