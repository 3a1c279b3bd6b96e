package org.mmuemu.kernel.workload;

import java.util.LinkedHashMap;
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
import org.mmuemu.kernel.uffd.Userfaultfd;

/**
 * Peter Xu's {@code uffd-wp-perf} test program (DOMAIN-FAULTS.md §4.6), one mode per run: a fresh
 * private anonymous region of {@code regionBytes} is registered with userfaultfd in write-protect
 * mode and then write-protected as a whole with one {@code UFFDIO_WRITEPROTECT}, after a pre-fault
 * that depends on the mode:
 *
 * <ul>
 *   <li>{@code default}: none; the protect walk finds empty upper-level entries and stops there;
 *   <li>{@code pre-read}: a user loop reads one byte of every page first (a read fault per page, or
 *       per 2 MiB with {@code thp=on});
 *   <li>{@code madvise}: {@code madvise(MADV_POPULATE_READ)} faults the same pages in from the
 *       kernel (GUP: no exception entry per page);
 *   <li>{@code wp-unpopulated}: the context enables {@code UFFD_FEATURE_WP_UNPOPULATED}, so the
 *       protect allocates page tables down to the PTE level and writes a marker into every empty
 *       slot.
 * </ul>
 *
 * <p>{@code thp=on} advises the region {@code MADV_HUGEPAGE} (so the {@code thp} tunable's default
 * {@code madvise} backs it with 2 MiB pages). The test thread runs on core 0; the run reports the
 * pre-fault and protect times in simulated cycles ({@code uffdPerfPrefaultCycles}, {@code
 * uffdPerfProtectCycles}, {@code uffdPerfTotalCycles}). Then, unlike the C program, it stores to
 * {@code writes} random pages: each store is a userfault that a monitor thread on core 1 reads and
 * resolves ({@code UFFDIO_WRITEPROTECT} mode 0), waking the writer ({@code
 * uffdPerfWriteFaultCycles}: their total). Each step is one action: a page read, a madvise, the
 * protect, a store, a message handled or a poll.
 */
public final class UffdWpPerfWorkload implements Workload {
  private static final List<String> MODES =
      List.of("default", "pre-read", "madvise", "wp-unpopulated");

  @Override
  public String name() {
    return "uffd-wp-perf";
  }

  @Override
  public String description() {
    return "uffd-wp-perf (DOMAIN-FAULTS.md 4.6): pre-fault a region by mode, write-protect it with"
        + " one UFFDIO_WRITEPROTECT, then stores a monitor thread resolves";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.choice(
            "mode",
            "default",
            MODES,
            "pre-fault before the protect: none, a user read per page, MADV_POPULATE_READ, or"
                + " UFFD_FEATURE_WP_UNPOPULATED markers"),
        WorkloadParam.size(
            "regionBytes", "64MiB", 2L << 20, 64L << 30, "the private anonymous region"),
        WorkloadParam.choice(
            "thp", "off", List.of("off", "on"), "on: madvise(MADV_HUGEPAGE) on the region"),
        WorkloadParam.integer(
            "writes", "16", 0, 1_000_000, "stores to random pages after the protect (userfaults)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    if (machine.coreCount() < 2) {
      throw new WorkloadException(
          "--machine: " + machine.coreCount() + " core (expected: at least 2, for the monitor)");
    }
    long regionBytes = params.bytes("regionBytes");
    if ((regionBytes & ((2L << 20) - 1)) != 0) {
      throw new WorkloadException(
          "--param regionBytes=" + regionBytes + ": (expected: a multiple of 2 MiB)");
    }
    Run run =
        new Run(
            kernel,
            params.choice("mode"),
            regionBytes,
            params.choice("thp").equals("on"),
            params.integer("writes"),
            seed);
    return PreparedWorkload.of(run.programs(), new TreeMap<>(params.asMap()), run::counters);
  }

  /** One run: the region, the phase times, the monitor's state. */
  private static final class Run {
    private final Kernel kernel;
    private final Machine machine;
    private final Userfaultfd uffd;
    private final String mode;
    private final long pages;
    private final long writes;
    private final long seed;
    private final Mm mm;
    private final long startVa = MmWorkloads.DATA_BASE_VA;
    private final long endVa;
    private long startCycle;
    private long prefaultEndCycle;
    private long protectEndCycle;
    private long writeFaultCycles;
    private boolean writerDone;

    Run(Kernel kernel, String mode, long regionBytes, boolean thp, long writes, long seed) {
      this.kernel = kernel;
      this.machine = kernel.machine();
      this.uffd = kernel.userfaultfd();
      this.mode = mode;
      this.pages = regionBytes >>> 12;
      this.writes = writes;
      this.seed = seed;
      this.endVa = startVa + regionBytes;
      this.mm = kernel.createMm();
      Vma region = new Vma(startVa, endVa, PteFlags.WRITE, "region");
      kernel.mmap(0, mm, thp ? region.withHugepageAdvice() : region);
    }

    CoreProgram[] programs() {
      CoreProgram[] programs = new CoreProgram[machine.coreCount()];
      programs[0] = new TestThread();
      programs[1] = new Monitor();
      return programs;
    }

    Map<String, Object> counters() {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("uffdPerfPrefaultCycles", prefaultEndCycle - startCycle);
      c.put("uffdPerfProtectCycles", protectEndCycle - prefaultEndCycle);
      c.put("uffdPerfTotalCycles", protectEndCycle - startCycle);
      c.put("uffdPerfWriteFaultCycles", writeFaultCycles);
      return c;
    }

    /** The C program's thread: register, pre-fault, protect; then the stores. */
    private final class TestThread implements CoreProgram {
      private final SplittableRandom random = new SplittableRandom(seed * 31);
      private long step;
      private long page;
      private long written;

      @Override
      public boolean step(int core) {
        if (step == 0) {
          kernel.switchTo(core, mm);
          uffd.register(core, mm, startVa, endVa, mode.equals("wp-unpopulated"));
          startCycle = machine.now(core);
          step++;
          return true;
        }
        if (step == 1) {
          if (mode.equals("pre-read") && page < pages) {
            machine.access(core, startVa + (page++ << 12), 1, AccessKind.READ);
            return true;
          }
          if (mode.equals("madvise")) {
            kernel.madvisePopulateRead(core, mm, startVa, endVa);
          }
          prefaultEndCycle = machine.now(core);
          uffd.writeProtect(core, mm, startVa, endVa, true);
          protectEndCycle = machine.now(core);
          step++;
          return true;
        }
        if (written < writes) {
          written++;
          long before = machine.now(core);
          machine.access(core, startVa + (random.nextLong(pages) << 12), 8, AccessKind.WRITE);
          writeFaultCycles += machine.now(core) - before;
          return true;
        }
        writerDone = true;
        return false;
      }
    }

    /** The monitor thread: reads userfault messages and resolves each. */
    private final class Monitor implements CoreProgram {
      private boolean started;

      @Override
      public boolean step(int core) {
        if (!started) {
          kernel.switchTo(core, mm);
          started = true;
        }
        Userfaultfd.Message message = uffd.readMessage();
        if (message != null) {
          uffd.resolve(core, message);
          return true;
        }
        if (writerDone) {
          return false;
        }
        machine.charge(core, MmWorkloads.POLL_CYCLES);
        return true;
      }
    }
  }
}
