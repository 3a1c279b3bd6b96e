package org.mmuemu.kernel;

import org.mmuemu.kernel.testkit.KernelBoot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.TlbGatherFlush;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/** Kernels for the process-teardown tests, and a policy wrapper that records each gather flush. */
public final class MmKernels {
  public static final long USER_VA = 0x10_0000_0000L;

  private MmKernels() {}

  public static Kernel boot(String isa, int cores, Map<String, Object> variants) {
    return KernelBoot.on(isa).cores(cores).variants(variants).boot();
  }

  public static Kernel boot(String isa, int cores) {
    return boot(isa, cores, Map.of());
  }

  /** A small test machine whose {@code /kernel} section selects {@code variants}. */
  public static org.mmuemu.core.config.MachineSpec spec(String isa, int cores, Map<String, Object> variants) {
    return KernelBoot.on(isa).cores(cores).variants(variants).spec();
  }

  /** As {@link #spec(String, int, Map)}, with ISA section keys (for example x86 {@code invlpgb}). */
  public static org.mmuemu.core.config.MachineSpec spec(String isa, int cores, Map<String, Object> variants,
      Map<String, Object> isaKeys) {
    return KernelBoot.on(isa).cores(cores).variants(variants).isaValues(isaKeys).spec();
  }

  public static org.mmuemu.core.isa.Isa isa(org.mmuemu.core.config.MachineSpec spec) {
    return KernelBoot.isa(spec);
  }

  public static org.mmuemu.core.isa.Isa isa(String id) {
    return KernelBoot.isa(KernelBoot.on(id).spec());
  }

  /** A process with one writable anonymous VMA of {@code pages} pages at {@link #USER_VA}. */
  public static Mm process(Kernel kernel, long pages) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (pages << 12), PteFlags.WRITE, "anon"));
    return mm;
  }

  /** Records every gather flush (with the machine time it completed) and passes it on. */
  public static final class RecordingPolicy implements ArchTlbPolicy {
    public final ArchTlbPolicy real;
    public final List<TlbGatherFlush> flushes = new ArrayList<>();
    /** Page-table frames still allocated when each flush ran, per flush. */
    public final List<Boolean> tablesStillAllocated = new ArrayList<>();
    private final Kernel kernel;
    private final long[] watchedTables;

    public RecordingPolicy(Kernel kernel, long... watchedTables) {
      this.kernel = kernel;
      this.real = kernel.tlbPolicy();
      this.watchedTables = watchedTables;
    }

    @Override
    public void tlbFlush(int core, Mm mm, TlbGatherFlush gather) {
      boolean allocated = true;
      for (long pfn : watchedTables) {
        allocated &= kernel.machine().memory().isPageTable(pfn);
      }
      tablesStillAllocated.add(allocated);
      real.tlbFlush(core, mm, gather);
      flushes.add(gather);
    }

    @Override
    public void switchMm(int core, Mm previous, Mm next) {
      real.switchMm(core, previous, next);
    }

    @Override
    public void flushTlbRange(int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
      real.flushTlbRange(core, mm, startVa, endVa, strideShift, lastLevel);
    }

    @Override
    public void flushTlbMm(int core, Mm mm) {
      real.flushTlbMm(core, mm);
    }

    @Override
    public void flushTlbKernelRange(int core, long startVa, long endVa) {
      real.flushTlbKernelRange(core, startVa, endVa);
    }
  }
}
