package org.mmuemu.benchmarks;

import java.util.List;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.testkit.MachineSpecBuilder;

/**
 * Machines for the benchmarks, built in code with core's test kit so the benchmarks do not depend
 * on the configs module's JSON loader. Their TLB shapes follow published geometries (4 KiB entries
 * only):
 *
 * <ul>
 *   <li>{@code arm64}: Neoverse N1 style, L1 instruction 48 entries and L1 data 48 entries, both
 *       fully associative, and a unified L2 of 1280 entries, 5-way (Arm Neoverse N1 TRM);
 *   <li>{@code x86}: Skylake style, L1 instruction 128 entries 8-way, L1 data 64 entries 4-way, and
 *       a unified STLB of 1536 entries, 12-way (Intel optimization manual).
 * </ul>
 *
 * <p>Latencies and walk costs are round numbers: the benchmarks measure host speed, which does not
 * depend on them.
 */
final class BenchmarkMachines {
  static final long MEMORY_BYTES = 256L << 20;
  private static final IsaRegistry ISAS = IsaRegistry.load();

  private BenchmarkMachines() {}

  static TlbLevelSpec level(
      String name, Serves serves, int entries, int ways, int hitCycles, Replacement replacement) {
    return new TlbLevelSpec(name, serves, entries, ways, List.of(4096L), hitCycles, replacement);
  }

  static List<TlbLevelSpec> levels(String isa) {
    return switch (isa) {
      case "arm64" ->
          List.of(
              level("l1i", Serves.INSTRUCTION, 48, 48, 1, Replacement.PLRU),
              level("l1d", Serves.DATA, 48, 48, 1, Replacement.PLRU),
              level("l2", Serves.UNIFIED, 1280, 5, 5, Replacement.LRU));
      case "x86" ->
          List.of(
              level("l1i", Serves.INSTRUCTION, 128, 8, 1, Replacement.PLRU),
              level("l1d", Serves.DATA, 64, 4, 1, Replacement.PLRU),
              level("l2", Serves.UNIFIED, 1536, 12, 7, Replacement.LRU));
      default -> throw new IllegalArgumentException("isa: " + isa + " (expected: arm64 or x86)");
    };
  }

  /** A machine of {@code cores} cores of {@code isa} with that ISA's TLB shape. */
  static MachineSpec machine(String isa, int cores) {
    WalkerSpec walker =
        new WalkerSpec(
            List.of(30, 30, 30, 40),
            2,
            List.of(
                new WalkerSpec.WalkCacheSpec(0, 4),
                new WalkerSpec.WalkCacheSpec(1, 16),
                new WalkerSpec.WalkCacheSpec(2, 32)));
    return MachineSpecBuilder.forIsa(isa)
        .name("bench-" + isa)
        .description("built by BenchmarkMachines")
        .cores(cores)
        .frequencyGHz(2.5)
        .memoryBytes(MEMORY_BYTES)
        .accessCycles(4)
        .tlbLevels(levels(isa))
        .walker(walker)
        .build();
  }

  static Isa isa(MachineSpec spec) {
    return ISAS.get(spec.isa())
        .create(new ConfigSection(spec.isaSection().pointer(), spec.isaSection().asMap()));
  }

  /** An empty kernel section, read fresh: {@code KernelConfig.read} records problems on it. */
  static ConfigSection emptyKernelSection() {
    return ConfigSection.empty("/kernel");
  }
}
