package org.mmuemu.core.metrics;

import java.util.Map;
import java.util.TreeMap;

/**
 * The simulated quantities of one run that are not kept by the TLBs themselves: walks, maintenance
 * instructions by name, IPIs, full flushes, latency distributions per operation and kernel
 * counters. Everything is in simulated units (cycles, counts).
 *
 * <p>Confined to the simulation thread. Counting and recording allocate nothing once a name has
 * been seen.
 */
public final class RunStats {
  private long translations;
  private long walks;
  private long walkMemoryRefs;
  private long walkCacheHits;
  private final CycleDistribution walkCycles = new CycleDistribution();
  private long ipis;
  private long fullFlushes;
  private long faults;
  private long hardwareDirtyUpdates;
  private final Map<String, long[]> instructionCounts = new TreeMap<>();
  private final Map<String, CycleDistribution> latencies = new TreeMap<>();
  private final Map<String, long[]> kernelCounters = new TreeMap<>();
  private final long[] componentCycles = new long[CycleComponent.values().length];

  /** Adds {@code cycles} (summed over cores) to a component of the cycle breakdown. */
  public void addComponentCycles(CycleComponent component, long cycles) {
    componentCycles[component.ordinal()] += cycles;
  }

  /** Cycles charged to {@code component}, summed over cores. */
  public long componentCycles(CycleComponent component) {
    return componentCycles[component.ordinal()];
  }

  /** Counts one translation (one page of one access). */
  public void countTranslation() {
    translations++;
  }

  public long translations() {
    return translations;
  }

  public void recordWalk(int memoryRefs, int cacheHits, long cycles) {
    walks++;
    walkMemoryRefs += memoryRefs;
    walkCacheHits += cacheHits;
    walkCycles.record(cycles);
  }

  /** Counts one execution of a maintenance or barrier instruction, by its ISA name. */
  public void countInstruction(String name) {
    long[] count = instructionCounts.get(name);
    if (count == null) {
      count = new long[1];
      instructionCounts.put(name, count);
    }
    count[0]++;
  }

  public void countIpis(long count) {
    ipis += count;
  }

  public void countFullFlush() {
    fullFlushes++;
  }

  public void countFault() {
    faults++;
  }

  /** Counts one leaf the hardware marked dirty (arm64 DBM, x86 D bit). */
  public void countHardwareDirtyUpdate() {
    hardwareDirtyUpdates++;
  }

  public long hardwareDirtyUpdates() {
    return hardwareDirtyUpdates;
  }

  /** Records one operation's latency in simulated cycles under {@code operation}. */
  public void recordLatency(String operation, long cycles) {
    CycleDistribution distribution = latencies.get(operation);
    if (distribution == null) {
      distribution = new CycleDistribution();
      latencies.put(operation, distribution);
    }
    distribution.record(cycles);
  }

  /** Adds {@code delta} to a kernel counter. */
  public void addKernelCounter(String name, long delta) {
    long[] value = kernelCounters.get(name);
    if (value == null) {
      value = new long[1];
      kernelCounters.put(name, value);
    }
    value[0] += delta;
  }

  /** Raises a kernel counter to {@code value} if it is higher (a high-water mark). */
  public void maxKernelCounter(String name, long value) {
    long[] current = kernelCounters.get(name);
    if (current == null) {
      kernelCounters.put(name, new long[] {value});
    } else if (value > current[0]) {
      current[0] = value;
    }
  }

  public long walks() {
    return walks;
  }

  public long walkMemoryRefs() {
    return walkMemoryRefs;
  }

  public long walkCacheHits() {
    return walkCacheHits;
  }

  public CycleDistribution walkCycles() {
    return walkCycles;
  }

  public long ipis() {
    return ipis;
  }

  public long fullFlushes() {
    return fullFlushes;
  }

  public long faults() {
    return faults;
  }

  /** Instruction counts, sorted by name. */
  public Map<String, Long> instructionCounts() {
    Map<String, Long> copy = new TreeMap<>();
    instructionCounts.forEach((name, count) -> copy.put(name, count[0]));
    return copy;
  }

  /** Latency distributions, sorted by operation. */
  public Map<String, CycleDistribution> latencies() {
    return java.util.Collections.unmodifiableMap(latencies);
  }

  /** Kernel counters, sorted by name. */
  public Map<String, Long> kernelCounters() {
    Map<String, Long> copy = new TreeMap<>();
    kernelCounters.forEach((name, value) -> copy.put(name, value[0]));
    return copy;
  }
}
