package org.mmuemu.core.config;

import java.util.List;

/**
 * One NUMA node of a machine: the cores it holds and the physical memory attached to it.
 *
 * @param cores ids of the cores on this node (may be empty: a memory-only node)
 * @param memoryBytes memory on this node, a positive multiple of 4 KiB
 */
public record NumaNodeSpec(List<Integer> cores, long memoryBytes) {
  public NumaNodeSpec {
    cores = List.copyOf(cores);
    if (memoryBytes < 4096 || memoryBytes % 4096 != 0) {
      throw new IllegalArgumentException(
          "memoryBytes: " + memoryBytes + " (expected: a positive multiple of 4KiB)");
    }
  }
}
