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
 * Short-lived processes: on each core, one process after another is created, touches its memory and
 * exits. Exit tears the whole address space down through a fullmm mmu_gather ({@code exit_mmap}),
 * so the run shows what fullmm saves: arm64 issues one ASID-wide TLBI for the freed tables instead
 * of per-page TLBIs; x86 flushes the mm once.
 *
 * <p>{@code // MODEL:} a new process is an empty address space with one anonymous VMA (an exec'd
 * child), not a copy of its parent (no copy-on-write fork). Each step is one action: create, one
 * page touched, or exit.
 */
public final class ForkExitWorkload implements Workload {

  @Override
  public String name() {
    return "fork-exit";
  }

  @Override
  public String description() {
    return "each core creates a process, touches its memory, and exits it (fullmm teardown), repeatedly";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer(
            "threads",
            null,
            1,
            4096,
            "cores running process loops, from core 0 (default: every core)"),
        WorkloadParam.size(
            "memoryBytes", "256KiB", 4096, 1L << 30, "anonymous memory each process touches"),
        WorkloadParam.integer(
            "processes", "40", 1, 10_000_000, "processes created and exited per core"),
        WorkloadParam.integer(
            "residentEvery",
            "0",
            0,
            1_000_000,
            "n > 0: each core also keeps a long-lived process (a shell or daemon) that runs, reading"
                + " a page, after every n short-lived ones, so its TLB entries outlive ASID"
                + " rollovers (with /arm64/asidBits=8 this shows asidRolloverFlush=none)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 1);
    long bytes = MmWorkloads.pageAligned(params.bytes("memoryBytes"));
    long processes = params.integer("processes");
    long residentEvery = params.integer("residentEvery");
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      programs[thread] =
          new CoreProgram() {
            private long remaining = processes;
            private Mm mm;
            private long offset;
            private Mm residentMm;
            private long sinceResident = residentEvery;

            @Override
            public boolean step(int core) {
              long base = MmWorkloads.DATA_BASE_VA;
              if (residentEvery > 0 && sinceResident == residentEvery) {
                // the long-lived process gets the CPU between short-lived ones
                sinceResident = 0;
                if (residentMm == null) {
                  residentMm = kernel.createMm();
                  kernel.mmap(core, residentMm, new Vma(base, base + 4096, PteFlags.WRITE, "heap"));
                  kernel.switchTo(core, residentMm);
                  machine.access(core, base, 8, AccessKind.WRITE);
                } else {
                  kernel.switchTo(core, residentMm);
                  machine.access(core, base, 8, AccessKind.READ);
                }
                return true;
              }
              if (mm == null) {
                mm = kernel.createMm();
                kernel.mmap(core, mm, new Vma(base, base + bytes, PteFlags.WRITE, "heap"));
                kernel.switchTo(core, mm);
                offset = 0;
                return true;
              }
              if (offset < bytes) {
                machine.access(core, base + offset, 8, AccessKind.WRITE);
                offset += 4096;
                return true;
              }
              kernel.exitMmap(core, mm);
              mm = null;
              sinceResident++;
              return --remaining > 0;
            }
          };
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("memoryBytes", Long.toString(bytes));
    return PreparedWorkload.of(programs, effective, Map::of);
  }
}
