package org.mmuemu.core.config;

import java.util.List;

/**
 * A validated machine configuration, as the simulation consumes it.
 *
 * <p>Built by the configs module from JSON (after {@code extends} merging, {@code --set} overrides
 * and validation) or directly by tests. The ISA's and the kernel's own sections stay as {@link
 * ConfigSection}s: each reads and validates its own keys.
 *
 * @param name machine name ({@code arm64-neoverse-n1})
 * @param description free text, including provenance notes
 * @param isa ISA id, as an {@code IsaProvider} declares it ({@code arm64}, {@code x86})
 * @param cores simulated cores, at least 1
 * @param frequencyGHz core clock, used only to turn cycles into time in reports
 * @param memoryBytes simulated physical memory, a multiple of 4 KiB
 * @param accessCycles cycles a memory access costs after its translation (no data-cache model)
 * @param quantumCycles how far a core may run ahead of the slowest core; 0 is exact ordering
 * @param tlbLevels the TLB levels of each core, in lookup order
 * @param walker the page-table walker
 * @param isaSection the section named after the ISA ({@code /arm64} or {@code /x86})
 * @param kernelSection the {@code /kernel} section
 * @param numaNodes the NUMA nodes, each core in exactly one and their memory adding up to {@code
 *     memoryBytes}; empty means one node holding every core and all memory
 */
public record MachineSpec(
    String name,
    String description,
    String isa,
    int cores,
    double frequencyGHz,
    long memoryBytes,
    int accessCycles,
    long quantumCycles,
    List<TlbLevelSpec> tlbLevels,
    WalkerSpec walker,
    ConfigSection isaSection,
    ConfigSection kernelSection,
    List<NumaNodeSpec> numaNodes) {

  public MachineSpec {
    tlbLevels = List.copyOf(tlbLevels);
    numaNodes = List.copyOf(numaNodes);
    if (cores < 1) {
      throw new IllegalArgumentException("cores: " + cores + " (expected: >= 1)");
    }
    if (memoryBytes < 4096 || memoryBytes % 4096 != 0) {
      throw new IllegalArgumentException(
          "memoryBytes: " + memoryBytes + " (expected: a multiple of 4KiB)");
    }
    checkNumaNodes(numaNodes, cores, memoryBytes);
  }

  private static void checkNumaNodes(List<NumaNodeSpec> nodes, int cores, long memoryBytes) {
    if (nodes.isEmpty()) {
      return;
    }
    int[] nodeOfCore = new int[cores];
    java.util.Arrays.fill(nodeOfCore, -1);
    long nodeMemory = 0;
    for (int node = 0; node < nodes.size(); node++) {
      for (int core : nodes.get(node).cores()) {
        if (core < 0 || core >= cores || nodeOfCore[core] >= 0) {
          throw new IllegalArgumentException(
              "numaNodes: core " + core + " (expected: each of 0 to " + (cores - 1) + " once)");
        }
        nodeOfCore[core] = node;
      }
      nodeMemory += nodes.get(node).memoryBytes();
    }
    for (int core = 0; core < cores; core++) {
      if (nodeOfCore[core] < 0) {
        throw new IllegalArgumentException("numaNodes: core " + core + " is in no node");
      }
    }
    if (nodeMemory != memoryBytes) {
      throw new IllegalArgumentException(
          "numaNodes: memory " + nodeMemory + " (expected: memoryBytes, " + memoryBytes + ")");
    }
  }

  /** The node of each core (all 0 on a machine of one node). */
  public int[] nodeOfCore() {
    int[] out = new int[cores];
    for (int node = 0; node < numaNodes.size(); node++) {
      for (int core : numaNodes.get(node).cores()) {
        out[core] = node;
      }
    }
    return out;
  }

  /** Returns a copy with a different core count (and one NUMA node). */
  public MachineSpec withCores(int newCores) {
    return new MachineSpec(
        name,
        description,
        isa,
        newCores,
        frequencyGHz,
        memoryBytes,
        accessCycles,
        quantumCycles,
        tlbLevels,
        walker,
        isaSection,
        kernelSection,
        List.of());
  }
}
