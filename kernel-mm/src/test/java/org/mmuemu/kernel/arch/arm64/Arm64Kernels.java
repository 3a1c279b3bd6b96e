package org.mmuemu.kernel.arch.arm64;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * arm64 kernels for the policy tests: a small machine (64 MiB; {@code l1i}, {@code l1d} and a
 * unified {@code l2} that hold 4 KiB and 64 KiB pages; walk caches at levels 0-2) with the
 * given ISA keys, booted with the given kernel variants.
 */
final class Arm64Kernels {
  static final long USER_VA = 0x10_0000_0000L;

  private Arm64Kernels() {}

  static Kernel boot(int cores, Map<String, Object> isaKeys, Map<String, Object> variants) {
    List<TlbLevelSpec> levels = List.of(
        new TlbLevelSpec("l1i", TlbLevelSpec.Serves.INSTRUCTION, 16, 16, List.of(4096L), 0,
            TlbLevelSpec.Replacement.LRU),
        new TlbLevelSpec("l1d", TlbLevelSpec.Serves.DATA, 32, 32, List.of(4096L, 65536L), 0,
            TlbLevelSpec.Replacement.LRU),
        new TlbLevelSpec("l2", TlbLevelSpec.Serves.UNIFIED, 1024, 4, List.of(4096L, 65536L, 2L << 20), 5,
            TlbLevelSpec.Replacement.LRU));
    WalkerSpec walker = new WalkerSpec(List.of(20, 20, 20, 20), 2, List.of(new WalkerSpec.WalkCacheSpec(0, 2),
        new WalkerSpec.WalkCacheSpec(1, 4), new WalkerSpec.WalkCacheSpec(2, 16)));
    ConfigSection isaSection = new ConfigSection("/arm64", new LinkedHashMap<>(isaKeys));
    MachineSpec spec = new MachineSpec("test-arm64", "arm64 kernel test machine", "arm64", cores, 2.0, 64L << 20, 4,
        0, levels, walker, isaSection, ConfigSection.empty("/kernel"));
    Machine machine = new Machine(spec, IsaRegistry.load().get("arm64").create(isaSection), 1);
    KernelConfig config = KernelConfig.read(new ConfigSection("/kernel", Map.of("variants", variants)));
    return new Kernel(machine, config);
  }

  static Kernel boot(int cores) {
    return boot(cores, Map.of(), Map.of());
  }

  static Arm64TlbPolicy policy(Kernel kernel) {
    return (Arm64TlbPolicy) kernel.tlbPolicy();
  }

  /** A process with one writable anonymous VMA of {@code pages} pages at {@link #USER_VA}. */
  static Mm process(Kernel kernel, long pages) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (pages << 12), org.mmuemu.core.isa.PteFlags.WRITE, "anon"));
    return mm;
  }
}
