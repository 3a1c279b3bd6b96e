package org.mmuemu.core.oracle;

import java.util.List;

/**
 * One oracle finding, as it appears in the result's {@code violations} array.
 *
 * @param kind the property broken
 * @param core the core that broke it
 * @param cycle that core's clock, in simulated cycles
 * @param va the virtual address, hex ({@code 0x...}), or null
 * @param pa the physical address, hex, or null
 * @param detail one sentence saying what happened
 * @param history the recent events of the frame or object involved, oldest first
 */
public record Violation(
    String kind, int core, long cycle, String va, String pa, String detail, List<String> history) {
  public Violation {
    history = List.copyOf(history);
  }
}
