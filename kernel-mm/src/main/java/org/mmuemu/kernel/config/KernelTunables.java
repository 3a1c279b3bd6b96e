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
 * @param preempt Linux's {@code preempt=} boot parameter (PREEMPT_DYNAMIC): {@code none}, kernel
 *     code is never preempted; {@code full}, every CPU is shared with one more CPU-bound task and a
 *     task whose slice ran out is preempted at the next point where its kernel code is preemptible
 *     (the named preemption points, {@code kernel.vmalloc.PreemptionHook})
 * @param baseSliceNs Linux {@code base_slice_ns} (debugfs, EEVDF): how long a task runs before the
 *     other one gets the CPU, with {@code preempt=full}
 */
public record KernelTunables(long faultAroundBytes, Thp thp, Preempt preempt, long baseSliceNs) {

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

  /** Every tunable with its default, in documentation order. */
  public static final Map<String, Object> DEFAULTS =
      Map.copyOf(
          Map.of(
              "faultAroundBytes",
              DEFAULT_FAULT_AROUND_BYTES,
              "thp",
              "madvise",
              "preempt",
              "none",
              "baseSliceNs",
              DEFAULT_BASE_SLICE_NS));

  /** Every tunable at its default. */
  public static KernelTunables defaults() {
    return new KernelTunables(
        DEFAULT_FAULT_AROUND_BYTES, Thp.MADVISE, Preempt.NONE, DEFAULT_BASE_SLICE_NS);
  }

  /**
   * Reads {@code /kernel/tunables}, filling defaults; an unknown key or a bad value is recorded on
   * {@code section} under its JSON pointer.
   */
  static KernelTunables read(ConfigSection section) {
    section.rejectUnknownKeys(Set.of("faultAroundBytes", "thp", "preempt", "baseSliceNs"));
    long faultAround = section.getBytes("faultAroundBytes", DEFAULT_FAULT_AROUND_BYTES);
    if (faultAround > MAX_FAULT_AROUND_BYTES) {
      section.report(
          "faultAroundBytes",
          faultAround,
          "at most " + MAX_FAULT_AROUND_BYTES + " (512 pages, one PTE table)");
      faultAround = DEFAULT_FAULT_AROUND_BYTES;
    }
    String thp = section.getChoice("thp", "madvise", List.of("always", "madvise", "never"));
    String preempt = section.getChoice("preempt", "none", List.of("none", "full"));
    long baseSliceNs =
        section.getLong("baseSliceNs", DEFAULT_BASE_SLICE_NS, 100_000, 1_000_000_000);
    return new KernelTunables(
        faultAround,
        Thp.valueOf(thp.toUpperCase(java.util.Locale.ROOT)),
        Preempt.valueOf(preempt.toUpperCase(java.util.Locale.ROOT)),
        baseSliceNs);
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
    out.put("preempt", preempt.configName());
    out.put("baseSliceNs", baseSliceNs);
    return out;
  }
}
