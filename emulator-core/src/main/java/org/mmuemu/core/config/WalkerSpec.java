package org.mmuemu.core.config;

import java.util.List;

/**
 * Costs and caches of the hardware page-table walker of each core.
 *
 * @param memoryRefCycles per table level (index 0 = the root table), the cycles one descriptor read
 *     costs when it is not served by a walk cache
 * @param walkCacheHitCycles cycles a walk-cache (paging-structure cache) hit costs
 * @param walkCaches per cached level, how many entries the walk cache holds
 */
public record WalkerSpec(
    List<Integer> memoryRefCycles, int walkCacheHitCycles, List<WalkCacheSpec> walkCaches) {

  /**
   * A walk cache for the descriptors read at one table level: a hit there skips reading that level
   * and every level above it.
   *
   * @param level table level whose table descriptors are cached (0 = root); never the leaf level
   * @param entries entries, fully associative, LRU
   */
  public record WalkCacheSpec(int level, int entries) {}

  public WalkerSpec {
    memoryRefCycles = List.copyOf(memoryRefCycles);
    walkCaches = List.copyOf(walkCaches);
  }
}
