package org.mmuemu.kernel.workload;

import org.mmuemu.core.machine.Machine;

/** Parameter checks shared by the workloads (public for the workload packages below this one). */
public final class MmWorkloads {
  /** Where the mm workloads place their mappings (a user address both ISAs map with 4 levels). */
  static final long DATA_BASE_VA = 0x20_0000_0000L;

  /** Cycles a thread waiting for another one spends per step (it polls). */
  static final long POLL_CYCLES = 500;

  private MmWorkloads() {}

  /**
   * The {@code threads} parameter: absent means {@code defaultThreads}.
   *
   * @throws WorkloadException when it is more than the machine's cores or fewer than {@code min}
   */
  static int threads(WorkloadArgs params, Machine machine, int defaultThreads, int min)
      throws WorkloadException {
    return coresParam(params, "threads", machine, defaultThreads, min);
  }

  /**
   * A parameter that counts cores ({@code threads}, {@code nr_threads}): absent means {@code
   * defaultCount}; it may not exceed the machine's cores (one thread per core).
   *
   * @throws WorkloadException naming the parameter and the allowed range
   */
  public static int coresParam(
      WorkloadArgs params, String name, Machine machine, int defaultCount, int min)
      throws WorkloadException {
    int count = params.has(name) ? params.intValue(name) : defaultCount;
    if (count > machine.coreCount() || count < min) {
      throw new WorkloadException(
          "--param "
              + name
              + "="
              + count
              + ": (expected: "
              + min
              + " to "
              + machine.coreCount()
              + " on this "
              + machine.coreCount()
              + "-core machine)");
    }
    return count;
  }

  /**
   * The {@code threads} parameter of a workload that runs one thread per core from core 0, every
   * core by default ({@link #threads} reads it).
   */
  static WorkloadParam threadsParam(long min, String description) {
    return WorkloadParam.integer("threads", null, min, 4096, description);
  }

  static long pageAligned(long bytes) {
    return (bytes + 4095) & ~4095L;
  }
}
