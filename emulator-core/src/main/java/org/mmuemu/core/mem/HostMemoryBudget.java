package org.mmuemu.core.mem;

import java.util.Locale;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;

/**
 * How much host memory a run may plan for, and the most a machine can cost the host, so a config
 * that could exhaust the heap is refused before it runs instead of dying with {@link
 * OutOfMemoryError} half-way.
 *
 * <p>The budget is three quarters of the JVM's maximum heap ({@code -Xmx}); the rest is left for
 * the JVM and the loaded classes. A machine costs at most: its frames times {@link
 * PhysicalMemory#HOST_BYTES_PER_FRAME} (memory is sparse, so a run that uses little costs little,
 * but a workload may use all of it), plus per core its TLB and walk-cache entries (primitive
 * arrays, allocated whole), plus a fixed allowance for the kernel structures, histograms and
 * result. Stateless.
 */
public final class HostMemoryBudget {
  private HostMemoryBudget() {}

  /** Host bytes a run needs besides frames and TLBs: kernel structures, histograms, result. */
  static final long FIXED_RUN_BYTES = 16L << 20;

  /**
   * One TLB entry's primitive fields (tag, size, ASID, global, frame, flags, stamps) and its share
   * of PLRU bits.
   */
  static final int HOST_BYTES_PER_TLB_ENTRY = 48;

  /** One walk-cache entry's primitive fields. */
  static final int HOST_BYTES_PER_WALK_CACHE_ENTRY = 40;

  /** The host bytes one run (or, for the control server, all its runs together) may plan for. */
  public static long budgetBytes() {
    long maxHeap = Runtime.getRuntime().maxMemory();
    return maxHeap == Long.MAX_VALUE ? Long.MAX_VALUE : maxHeap / 4 * 3;
  }

  /** The most host memory a run of {@code spec} may use. */
  public static long hostBytesFor(MachineSpec spec) {
    return framesBytes(spec.memoryBytes()) + perCoreBytes(spec) * spec.cores() + FIXED_RUN_BYTES;
  }

  /**
   * The problem with running {@code spec} within {@code budgetBytes}, naming the config value that
   * costs most ({@code /memoryBytes}, else {@code /tlb/levels}), or null when it fits.
   */
  public static ConfigProblem problemWith(MachineSpec spec, long budgetBytes) {
    long needed = hostBytesFor(spec);
    if (needed <= budgetBytes) {
      return null;
    }
    long frames = framesBytes(spec.memoryBytes());
    long tlbs = perCoreBytes(spec) * spec.cores();
    String budget =
        "this JVM's host-memory budget of "
            + human(budgetBytes)
            + " (3/4 of its maximum heap); "
            + "use a smaller machine, or give Java more heap (-Xmx)";
    if (frames >= tlbs) {
      long otherBytes = needed - frames;
      long maxMemory =
          budgetBytes <= otherBytes
              ? 0
              : (budgetBytes - otherBytes) / PhysicalMemory.HOST_BYTES_PER_FRAME
                  << PhysicalMemory.FRAME_SHIFT;
      return ConfigProblem.expected(
          "/memoryBytes",
          human(spec.memoryBytes()) + " may need " + human(needed) + " of host memory",
          "at most " + human(maxMemory) + " of simulated memory within " + budget);
    }
    return ConfigProblem.expected(
        "/tlb/levels",
        "TLB and walk-cache entries for "
            + spec.cores()
            + " cores may need "
            + human(needed)
            + " of host memory",
        "fewer entries or cores, within " + budget);
  }

  private static long framesBytes(long memoryBytes) {
    return (memoryBytes >>> PhysicalMemory.FRAME_SHIFT) * PhysicalMemory.HOST_BYTES_PER_FRAME;
  }

  private static long perCoreBytes(MachineSpec spec) {
    long bytes = 0;
    for (TlbLevelSpec level : spec.tlbLevels()) {
      bytes += (long) level.entries() * HOST_BYTES_PER_TLB_ENTRY;
    }
    for (WalkerSpec.WalkCacheSpec cache : spec.walker().walkCaches()) {
      bytes += (long) cache.entries() * HOST_BYTES_PER_WALK_CACHE_ENTRY;
    }
    return bytes;
  }

  /** A size for people: {@code 1.5GiB}, {@code 281GiB}, {@code 48MiB}, rounded down. */
  static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int unit = 0;
    double value = bytes;
    while (unit < units.length - 1 && value >= 1024) {
      value /= 1024;
      unit++;
    }
    double shown = value >= 10 || unit == 0 ? Math.floor(value) : Math.floor(value * 10) / 10;
    return (shown == Math.rint(shown)
            ? Long.toString((long) shown)
            : String.format(Locale.ROOT, "%.1f", shown))
        + units[unit];
  }
}
