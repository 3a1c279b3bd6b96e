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
 * A synthetic workload: the threads of one process, one per core, each touching its own anonymous
 * working set with a chosen pattern while fetching instructions from a small shared code region.
 * Pages are demand-faulted on first touch, so the run shows the fault path, the walks and the TLB
 * reach against the working set.
 *
 * <p>Each step is one instruction fetch followed by one data access. With {@code readFirst=1} each
 * thread first reads every page of its working set once, in order (a step per page), so each page
 * is first mapped to the shared zero page and its first store later takes a copy-on-write fault
 * that allocates it.
 */
public final class StreamWorkload implements Workload {
  /** Where the shared code region starts (the traditional x86-64 ELF base). */
  static final long CODE_BASE_VA = 0x40_0000L;

  /** Where the first thread's working set starts; threads are 1 GiB apart. */
  static final long DATA_BASE_VA = 0x10_0000_0000L;

  private static final long THREAD_SPACING_BYTES = 1L << 30;
  private static final int INSTRUCTION_BYTES = 4;

  @Override
  public String name() {
    return "stream";
  }

  @Override
  public String description() {
    return "each core's thread touches its own working set (random, sequential or strided) with a share of writes";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        MmWorkloads.threadsParam(1, "threads, one per core from core 0 (default: every core)"),
        WorkloadParam.size("workingSetBytes", "2MiB", 4096, 1L << 30, "bytes each thread touches"),
        WorkloadParam.integer("accesses", "100000", 1, 1_000_000_000, "data accesses per thread"),
        WorkloadParam.choice(
            "pattern",
            "random",
            List.of("random", "sequential", "stride"),
            "random: uniform over the working set; sequential: accessBytes apart; stride: strideBytes apart"),
        WorkloadParam.size(
            "strideBytes", "4096", 1, 1L << 30, "distance between accesses of the stride pattern"),
        WorkloadParam.integer("accessBytes", "8", 1, 4096, "bytes per data access"),
        WorkloadParam.fraction("writeFraction", "0.3", "share of data accesses that are stores"),
        WorkloadParam.integer(
            "readFirst",
            "0",
            0,
            1,
            "1: each thread first reads every page of its working set once (zero-page faults)"),
        WorkloadParam.size(
            "codeBytes", "16KiB", 4096, 1L << 30, "size of the shared code region fetched from"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.coresParam(params, "threads", machine, machine.coreCount(), 1);
    long workingSetBytes = params.bytes("workingSetBytes");
    long accesses = params.integer("accesses");
    String pattern = params.choice("pattern");
    long strideBytes = params.bytes("strideBytes");
    int accessBytes = params.intValue("accessBytes");
    double writeFraction = params.fraction("writeFraction");
    boolean readFirst = params.integer("readFirst") == 1;
    long codeBytes = roundUpToPage(params.bytes("codeBytes"));
    long dataBytes = roundUpToPage(workingSetBytes);
    if (accessBytes > workingSetBytes) {
      throw new WorkloadException(
          "--param accessBytes="
              + accessBytes
              + ": larger than workingSetBytes "
              + workingSetBytes);
    }

    Mm mm = kernel.createMm();
    mm.addVma(new Vma(CODE_BASE_VA, CODE_BASE_VA + codeBytes, PteFlags.EXEC, "code"));
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < threads; thread++) {
      long base = DATA_BASE_VA + thread * THREAD_SPACING_BYTES;
      mm.addVma(new Vma(base, base + dataBytes, PteFlags.WRITE, "data-" + thread));
      programs[thread] =
          new StreamThread(
              kernel,
              mm,
              base,
              workingSetBytes,
              accesses,
              pattern,
              strideBytes,
              accessBytes,
              writeFraction,
              readFirst ? roundUpToPage(workingSetBytes) / 4096 : 0,
              codeBytes,
              new SplittableRandom(seed * 31 + thread));
    }
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    return PreparedWorkload.of(programs, effective, Map::of);
  }

  private static long roundUpToPage(long bytes) {
    return (bytes + 4095) & ~4095L;
  }

  /** One thread's steps; the state of a running stream thread. */
  private static final class StreamThread implements CoreProgram {
    private final Kernel kernel;
    private final Mm mm;
    private final Machine machine;
    private final long baseVa;
    private final long workingSetBytes;
    private final String pattern;
    private final long strideBytes;
    private final int accessBytes;
    private final double writeFraction;
    private final long codeBytes;
    private final SplittableRandom random;
    private final long readPassPages;
    private long readPassPage;
    private long remaining;
    private long offset;
    private long pcOffset;
    private boolean started;

    StreamThread(
        Kernel kernel,
        Mm mm,
        long baseVa,
        long workingSetBytes,
        long accesses,
        String pattern,
        long strideBytes,
        int accessBytes,
        double writeFraction,
        long readPassPages,
        long codeBytes,
        SplittableRandom random) {
      this.kernel = kernel;
      this.mm = mm;
      this.machine = kernel.machine();
      this.baseVa = baseVa;
      this.workingSetBytes = workingSetBytes;
      this.remaining = accesses;
      this.pattern = pattern;
      this.strideBytes = strideBytes;
      this.accessBytes = accessBytes;
      this.writeFraction = writeFraction;
      this.readPassPages = readPassPages;
      this.codeBytes = codeBytes;
      this.random = random;
    }

    @Override
    public boolean step(int core) {
      if (!started) {
        kernel.switchTo(core, mm);
        started = true;
      }
      machine.access(core, CODE_BASE_VA + pcOffset, INSTRUCTION_BYTES, AccessKind.FETCH);
      pcOffset = (pcOffset + INSTRUCTION_BYTES) % codeBytes;
      if (readPassPage < readPassPages) {
        machine.access(core, baseVa + (readPassPage++ << 12), 1, AccessKind.READ);
        return true;
      }
      long span = workingSetBytes - accessBytes + 1;
      long dataOffset;
      switch (pattern) {
        case "random" -> dataOffset = (random.nextLong(span) / accessBytes) * accessBytes;
        case "sequential" -> {
          dataOffset = offset;
          offset = (offset + accessBytes) % span;
        }
        default -> {
          dataOffset = offset;
          offset = (offset + strideBytes) % span;
        }
      }
      AccessKind kind = random.nextDouble() < writeFraction ? AccessKind.WRITE : AccessKind.READ;
      machine.access(core, baseVa + dataOffset, accessBytes, kind);
      return --remaining > 0;
    }
  }
}
