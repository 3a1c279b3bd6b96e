package org.mmuemu.kernel.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mmuemu.core.config.ConfigSection;

/**
 * The machine config's {@code /kernel/tunables}: settings Linux lets an administrator change at run
 * time (debugfs, sysfs), as opposed to costs and to the variants that select old or new code.
 *
 * @param faultAroundBytes Linux {@code fault_around_bytes} (debugfs): the window of already-cached
 *     file pages a read fault maps around itself; at most one PTE table ({@link
 *     #MAX_FAULT_AROUND_BYTES}), as Linux rejects larger writes; used as {@link #faultAroundPages}
 * @param thp Linux {@code /sys/kernel/mm/transparent_hugepage/enabled}: {@code always} backs
 *     anonymous memory with 2 MiB pages where a whole aligned 2 MiB fits in the VMA, {@code
 *     madvise} only in VMAs advised with {@code MADV_HUGEPAGE}, {@code never} nowhere
 * @param mthp Linux's per-size anonymous mTHP controls ({@code hugepages-<size>kB/enabled}, 6.8+),
 *     16 KiB to 1 MiB, each {@code always}, {@code inherit}, {@code madvise} or {@code never}
 *     (default)
 * @param thpUseZeroPage Linux {@code /sys/kernel/mm/transparent_hugepage/use_zero_page}: a read
 *     fault where a huge page may map maps the 2 MiB huge zero page with one PMD ({@code true}), or
 *     allocates a huge page as a write would ({@code false})
 * @param preempt Linux's {@code preempt=} boot parameter (PREEMPT_DYNAMIC): {@code none}, kernel
 *     code is never preempted; {@code full}, every CPU is shared with one more CPU-bound task and a
 *     task whose slice ran out is preempted at the next point where its kernel code is preemptible
 *     (the named preemption points, {@code kernel.vmalloc.PreemptionHook})
 * @param baseSliceNs Linux {@code base_slice_ns} (debugfs, EEVDF): how long a task runs before the
 *     other one gets the CPU, with {@code preempt=full}
 * @param numaBalancingScanDelayMs Linux {@code numa_balancing_scan_delay_ms} (sysctl {@code
 *     kernel.numa_balancing_scan_delay_ms}): how long after an mm starts, and after the scanner
 *     first meets a VMA, before it is scanned; four times it is the ageing period of the per-VMA
 *     PID bits ({@code VMA_PID_RESET_PERIOD})
 * @param numaBalancingScanPeriodMinMs Linux {@code numa_balancing_scan_period_min_ms}: a task's
 *     scan period (the model does not lengthen it towards {@code scan_period_max})
 * @param numaBalancingScanSizeMb Linux {@code numa_balancing_scan_size_mb}: the address space one
 *     scan pass makes PROT_NONE
 */
public record KernelTunables(
    long faultAroundBytes,
    Thp thp,
    MthpSizes mthp,
    boolean thpUseZeroPage,
    Preempt preempt,
    long baseSliceNs,
    long numaBalancingScanDelayMs,
    long numaBalancingScanPeriodMinMs,
    long numaBalancingScanSizeMb) {

  /** {@link #preempt}. */
  public enum Preempt {
    NONE,
    FULL;

    /** The value as the config spells it. */
    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Linux's {@code base_slice_ns} on a machine of 8 or more CPUs: 0.75 ms scaled by {@code 1 +
   * ilog2(8)} ({@code sched_tunable_scaling} log, the default), 3 ms.
   */
  public static final long DEFAULT_BASE_SLICE_NS = 3_000_000;

  /** {@link #thp}. */
  public enum Thp {
    ALWAYS,
    MADVISE,
    NEVER;

    /** The value as the config spells it. */
    public String configName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Linux's default {@code fault_around_bytes}: 64 KiB. */
  public static final long DEFAULT_FAULT_AROUND_BYTES = 65_536;

  /** {@code PTRS_PER_PTE} 4 KiB pages: the most fault-around may map (one PTE table). */
  public static final long MAX_FAULT_AROUND_BYTES = 512L << 12;

  /** Linux's NUMA balancing defaults: scan delay and minimum period 1000 ms, scan size 256 MB. */
  public static final long DEFAULT_NUMA_SCAN_DELAY_MS = 1000;

  public static final long DEFAULT_NUMA_SCAN_PERIOD_MIN_MS = 1000;
  public static final long DEFAULT_NUMA_SCAN_SIZE_MB = 256;

  /** Every tunable with its default, in documentation order. */
  public static final Map<String, Object> DEFAULTS =
      Map.copyOf(
          Map.of(
              "faultAroundBytes",
              DEFAULT_FAULT_AROUND_BYTES,
              "thp",
              "madvise",
              "mthp",
              MthpSizes.defaultMap(),
              "thpUseZeroPage",
              true,
              "preempt",
              "none",
              "baseSliceNs",
              DEFAULT_BASE_SLICE_NS,
              "numaBalancingScanDelayMs",
              DEFAULT_NUMA_SCAN_DELAY_MS,
              "numaBalancingScanPeriodMinMs",
              DEFAULT_NUMA_SCAN_PERIOD_MIN_MS,
              "numaBalancingScanSizeMb",
              DEFAULT_NUMA_SCAN_SIZE_MB));

  private static final java.util.List<String> KEYS =
      java.util.List.of(
          "faultAroundBytes",
          "thp",
          "mthp",
          "thpUseZeroPage",
          "preempt",
          "baseSliceNs",
          "numaBalancingScanDelayMs",
          "numaBalancingScanPeriodMinMs",
          "numaBalancingScanSizeMb");

  /** Every tunable at its default. */
  public static KernelTunables defaults() {
    return new KernelTunables(
        DEFAULT_FAULT_AROUND_BYTES,
        Thp.MADVISE,
        MthpSizes.defaults(),
        true,
        Preempt.NONE,
        DEFAULT_BASE_SLICE_NS,
        DEFAULT_NUMA_SCAN_DELAY_MS,
        DEFAULT_NUMA_SCAN_PERIOD_MIN_MS,
        DEFAULT_NUMA_SCAN_SIZE_MB);
  }

  /**
   * Reads {@code /kernel/tunables}, filling defaults; an unknown key or a bad value is recorded on
   * {@code section} under its JSON pointer.
   */
  static KernelTunables read(ConfigSection section) {
    section.rejectUnknownKeys(Set.copyOf(KEYS));
    long faultAround = section.getBytes("faultAroundBytes", DEFAULT_FAULT_AROUND_BYTES);
    if (faultAround > MAX_FAULT_AROUND_BYTES) {
      section.report(
          "faultAroundBytes",
          faultAround,
          "at most " + MAX_FAULT_AROUND_BYTES + " (512 pages, one PTE table)");
      faultAround = DEFAULT_FAULT_AROUND_BYTES;
    }
    String thp = section.getChoice("thp", "madvise", List.of("always", "madvise", "never"));
    MthpSizes mthp = MthpSizes.read(section.section("mthp"));
    boolean thpUseZeroPage = section.getBoolean("thpUseZeroPage", true);
    String preempt = section.getChoice("preempt", "none", List.of("none", "full"));
    long baseSliceNs =
        section.getLong("baseSliceNs", DEFAULT_BASE_SLICE_NS, 100_000, 1_000_000_000);
    // Linux's sysctl limits: a delay or period of at least 1 ms, a scan size of at least 1 MB
    long scanDelayMs =
        section.getLong("numaBalancingScanDelayMs", DEFAULT_NUMA_SCAN_DELAY_MS, 1, 3_600_000);
    long scanPeriodMinMs =
        section.getLong(
            "numaBalancingScanPeriodMinMs", DEFAULT_NUMA_SCAN_PERIOD_MIN_MS, 1, 3_600_000);
    long scanSizeMb =
        section.getLong("numaBalancingScanSizeMb", DEFAULT_NUMA_SCAN_SIZE_MB, 1, 1L << 20);
    return new KernelTunables(
        faultAround,
        Thp.valueOf(thp.toUpperCase(java.util.Locale.ROOT)),
        mthp,
        thpUseZeroPage,
        Preempt.valueOf(preempt.toUpperCase(java.util.Locale.ROOT)),
        baseSliceNs,
        scanDelayMs,
        scanPeriodMinMs,
        scanSizeMb);
  }

  /**
   * The fault-around window in pages, as Linux's debugfs setter stores it: the byte value rounded
   * down to a power of two, in pages, at least 1 (1 turns fault-around off).
   */
  public long faultAroundPages() {
    return Math.max(1, Long.highestOneBit(faultAroundBytes) >>> 12);
  }

  /** The tunables by config key, in documentation order (the resolved config shows them). */
  public Map<String, Object> asMap() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("faultAroundBytes", faultAroundBytes);
    out.put("thp", thp.configName());
    out.put("mthp", mthp.asMap());
    out.put("thpUseZeroPage", thpUseZeroPage);
    out.put("preempt", preempt.configName());
    out.put("baseSliceNs", baseSliceNs);
    out.put("numaBalancingScanDelayMs", numaBalancingScanDelayMs);
    out.put("numaBalancingScanPeriodMinMs", numaBalancingScanPeriodMinMs);
    out.put("numaBalancingScanSizeMb", numaBalancingScanSizeMb);
    return out;
  }
}
