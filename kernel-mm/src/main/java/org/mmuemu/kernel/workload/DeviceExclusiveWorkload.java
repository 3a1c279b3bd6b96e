package org.mmuemu.kernel.workload;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * Device-exclusive entries under CPU contention (DOMAIN-FAULTS.md §6): a driver thread repeatedly
 * takes a process's buffer for device atomics while the process's threads touch it and a reclaim
 * thread discards pages of it.
 *
 * <ul>
 *   <li>Core 0 is the driver: {@code rounds} times it makes the whole buffer device-exclusive
 *       ({@code make_device_exclusive}: per page a notifier call, the PTE replaced by a
 *       device-exclusive entry, a one-page TLB flush), then lets the device work for {@code
 *       deviceCycles}.
 *   <li>The last core picks a random page of the buffer per step and, if the device holds it,
 *       discards it ({@code madvise(MADV_DONTNEED)}: the device-exclusive entry is zapped and the
 *       page freed, unless a fault on it holds a reference); then it waits {@code reclaimCycles}.
 *   <li>Every core between loads from or stores to random pages of the buffer: an access to a page
 *       the device holds faults and takes it back ({@code remove_device_exclusive_entry}); two
 *       threads faulting on one entry wait for each other on the page lock.
 * </ul>
 *
 * <p>With {@code deviceExclusiveRef=none} a fault waiting for the page lock holds no reference, so
 * the reclaim thread can free the page under it and the fault locks a freed page: {@code
 * KERNEL_UAF}. Each step is one action: a make round, a device wait, an access, a madvise, or a
 * wait.
 *
 * <p>{@code // MODEL:} reclaim looks at the page table (without a lock) to pick pages the device
 * holds, as a driver evicting its cold pages would know them; discarding pages the CPUs map would
 * also race the CPUs' faults against the zap's pending flush, a different topic (arm64 reports a
 * fault that maps a new page there before the flush as {@code BREAK_BEFORE_MAKE}).
 */
public final class DeviceExclusiveWorkload implements Workload {

  @Override
  public String name() {
    return "device-exclusive";
  }

  @Override
  public String description() {
    return "a driver thread repeatedly makes a buffer device-exclusive while the process's threads"
        + " touch it (faults take pages back) and a reclaim thread discards pages of it";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer("pages", "8", 1, 1 << 20, "pages of the buffer"),
        WorkloadParam.integer("rounds", "100", 1, 100_000_000, "make_device_exclusive rounds"),
        WorkloadParam.integer(
            "deviceCycles", "20000", 0, 1_000_000_000, "cycles the device works after each round"),
        WorkloadParam.integer(
            "reclaimCycles", "3000", 0, 1_000_000_000, "cycles the reclaim thread waits per page"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    if (machine.coreCount() < 3) {
      throw new WorkloadException(
          "--machine: "
              + machine.coreCount()
              + " cores (expected: at least 3, for the driver, a CPU thread and reclaim)");
    }
    Run run =
        new Run(
            kernel,
            params.integer("pages"),
            params.integer("rounds"),
            params.integer("deviceCycles"),
            params.integer("reclaimCycles"),
            seed);
    return PreparedWorkload.of(run.programs(), new TreeMap<>(params.asMap()), Map::of);
  }

  /** One run's shared state: the process, and whether the driver is done. */
  private static final class Run {
    private final Kernel kernel;
    private final Machine machine;
    private final long pages;
    private final long rounds;
    private final long deviceCycles;
    private final long reclaimCycles;
    private final long seed;
    private final Mm mm;
    private boolean driverDone;
    private int othersDone;

    Run(Kernel kernel, long pages, long rounds, long deviceCycles, long reclaimCycles, long seed) {
      this.kernel = kernel;
      this.machine = kernel.machine();
      this.pages = pages;
      this.rounds = rounds;
      this.deviceCycles = deviceCycles;
      this.reclaimCycles = reclaimCycles;
      this.seed = seed;
      this.mm = kernel.createMm();
      kernel.mmap(
          0,
          mm,
          new Vma(
              MmWorkloads.DATA_BASE_VA,
              MmWorkloads.DATA_BASE_VA + (pages << 12),
              PteFlags.WRITE,
              "buffer"));
    }

    CoreProgram[] programs() {
      int cores = machine.coreCount();
      CoreProgram[] programs = new CoreProgram[cores];
      programs[0] = new Driver();
      for (int core = 1; core < cores - 1; core++) {
        programs[core] = new Toucher(core);
      }
      programs[cores - 1] = new Reclaimer(cores - 1);
      return programs;
    }

    private long pageVa(long page) {
      return MmWorkloads.DATA_BASE_VA + (page << 12);
    }

    /** The driver: make the buffer exclusive, let the device work; exits the process last. */
    private final class Driver implements CoreProgram {
      private long step;

      @Override
      public boolean step(int core) {
        if (step == 0) {
          kernel.switchTo(core, mm);
        }
        if (step < 2 * rounds) {
          if (step++ % 2 == 0) {
            kernel.makeDeviceExclusive(core, mm, pageVa(0), pageVa(pages));
          } else {
            machine.charge(core, deviceCycles);
          }
          return true;
        }
        driverDone = true;
        if (othersDone < machine.coreCount() - 1) {
          machine.charge(core, MmWorkloads.POLL_CYCLES);
          return true;
        }
        kernel.exitMmap(core, mm);
        return false;
      }
    }

    /**
     * A thread of the process on its own core: runs {@link #act} on random pages of the buffer
     * until the driver is done, then exits.
     */
    private abstract class ProcessThread implements CoreProgram {
      final SplittableRandom random;
      private boolean started;

      ProcessThread(int core) {
        this.random = new SplittableRandom(seed * 31 + core);
      }

      @Override
      public final boolean step(int core) {
        if (!started) {
          kernel.switchTo(core, mm);
          started = true;
        }
        if (driverDone) {
          othersDone++;
          kernel.exitThread(core);
          return false;
        }
        act(core, pageVa(random.nextLong(pages)));
        return true;
      }

      abstract void act(int core, long va);
    }

    /** A CPU thread: a load or a store. */
    private final class Toucher extends ProcessThread {
      Toucher(int core) {
        super(core);
      }

      @Override
      void act(int core, long va) {
        machine.access(core, va, 8, random.nextBoolean() ? AccessKind.READ : AccessKind.WRITE);
      }
    }

    /** Reclaim: discards the page if the device holds it, every other step; waits otherwise. */
    private final class Reclaimer extends ProcessThread {
      private boolean waiting;

      Reclaimer(int core) {
        super(core);
      }

      @Override
      void act(int core, long va) {
        if (waiting || !kernel.isDeviceExclusive(mm, va)) {
          machine.charge(core, reclaimCycles);
        } else {
          kernel.madviseDontneed(core, mm, va, va + 4096);
        }
        waiting = !waiting;
      }
    }
  }
}
