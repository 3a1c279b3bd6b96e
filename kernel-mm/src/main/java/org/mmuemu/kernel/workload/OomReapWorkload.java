package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * The OOM reaper against a victim that is still running: core 0 creates a victim process whose
 * threads (on the other cores) touch its memory; once every thread has touched it, core 0 reaps the
 * victim's memory ({@code __oom_reap_task_mm}) while the threads keep storing for a few more steps
 * (the window between the kill and their exit), then they exit and core 0 tears the mm down ({@code
 * exit_mmap}). Repeated for the given rounds; reaped frames are reused by the threads' later faults
 * and the next victims.
 *
 * <p>With the default {@code oomReaperGather=perVma} the reaped range is flushed before its frames
 * are freed; with {@code fullmm} on arm64 the flush is skipped and the stores after the reap reach
 * freed or reused frames ({@code STALE_TLB_USE}).
 *
 * <p>{@code // MODEL:} the victim's threads are not slowed by the kill; waiting threads poll.
 */
public final class OomReapWorkload implements Workload {

  @Override
  public String name() {
    return "oom-reap";
  }

  @Override
  public String description() {
    return "victim threads keep storing while the OOM reaper on core 0 tears their mm down, then exit";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer(
            "threads",
            null,
            2,
            4096,
            "cores in use: core 0 reaps, the others run victim threads (default: every core)"),
        WorkloadParam.size(
            "memoryBytes",
            "128KiB",
            4096,
            1L << 30,
            "victim memory, each thread touches all of it"),
        WorkloadParam.integer(
            "storesAfterReap", "8", 0, 1_000_000, "stores each victim thread makes after the reap"),
        WorkloadParam.integer("rounds", "10", 1, 1_000_000, "victims created, reaped and exited"));
  }

  /** The shared state of one round. */
  private static final class Round {
    Mm victim;
    int number;
    int touchedAll;
    boolean reaped;
    int exited;
    boolean finished;
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 2);
    long bytes = MmWorkloads.pageAligned(params.bytes("memoryBytes"));
    long storesAfterReap = params.integer("storesAfterReap");
    long rounds = params.integer("rounds");
    int victims = threads - 1;
    long base = MmWorkloads.DATA_BASE_VA;
    Round round = new Round();
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    programs[0] =
        new CoreProgram() {
          private long remaining = rounds;

          @Override
          public boolean step(int core) {
            if (round.victim == null) {
              round.victim = kernel.createMm();
              kernel.mmap(
                  core, round.victim, new Vma(base, base + bytes, PteFlags.WRITE, "victim"));
              round.touchedAll = 0;
              round.reaped = false;
              round.exited = 0;
              round.number++;
              return true;
            }
            if (!round.reaped && round.touchedAll == victims) {
              kernel.oomReap(core, round.victim);
              round.reaped = true;
              return true;
            }
            if (round.reaped && round.exited == victims) {
              kernel.exitMmap(core, round.victim);
              round.victim = null;
              if (--remaining == 0) {
                round.finished = true;
                return false;
              }
              return true;
            }
            machine.charge(core, MmWorkloads.POLL_CYCLES);
            return true;
          }
        };
    for (int thread = 1; thread < threads; thread++) {
      programs[thread] =
          new CoreProgram() {
            private int roundSeen;
            private long offset;
            private long storesLeft;
            private boolean exited = true;

            @Override
            public boolean step(int core) {
              if (round.finished) {
                return false;
              }
              if (round.victim != null && round.number != roundSeen) {
                roundSeen = round.number;
                kernel.switchTo(core, round.victim);
                offset = 0;
                storesLeft = storesAfterReap;
                exited = false;
                return true;
              }
              if (exited) {
                machine.charge(core, MmWorkloads.POLL_CYCLES);
                return true;
              }
              if (offset < bytes) {
                machine.access(core, base + offset, 8, AccessKind.WRITE);
                offset += 4096;
                if (offset == bytes) {
                  round.touchedAll++;
                }
                return true;
              }
              if (!round.reaped) {
                machine.access(
                    core, base + ((offset / 4096) % (bytes / 4096)) * 4096, 8, AccessKind.READ);
                offset += 4096;
                return true;
              }
              if (storesLeft > 0) {
                machine.access(
                    core, base + ((storesLeft - 1) % (bytes / 4096)) * 4096, 8, AccessKind.WRITE);
                storesLeft--;
                return true;
              }
              kernel.exitThread(core);
              exited = true;
              round.exited++;
              return true;
            }
          };
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("memoryBytes", Long.toString(bytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }
}
