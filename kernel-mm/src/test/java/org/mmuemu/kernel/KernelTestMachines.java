package org.mmuemu.kernel;

import java.util.List;
import java.util.Map;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.machine.Machine;

/** Small machines for kernel tests, built without the configs module. */
final class KernelTestMachines {
  private KernelTestMachines() {}

  static MachineSpec spec(String isa, int cores) {
    List<TlbLevelSpec> levels = List.of(
        new TlbLevelSpec("l1i", TlbLevelSpec.Serves.INSTRUCTION, 16, 16, List.of(4096L), 0,
            TlbLevelSpec.Replacement.LRU),
        new TlbLevelSpec("l1d", TlbLevelSpec.Serves.DATA, 16, 16, List.of(4096L, 2L << 20), 0,
            TlbLevelSpec.Replacement.LRU),
        new TlbLevelSpec("l2", TlbLevelSpec.Serves.UNIFIED, 256, 4, List.of(4096L, 2L << 20), 5,
            TlbLevelSpec.Replacement.LRU));
    WalkerSpec walker = new WalkerSpec(List.of(20, 20, 20, 20), 2,
        List.of(new WalkerSpec.WalkCacheSpec(0, 2), new WalkerSpec.WalkCacheSpec(1, 4),
            new WalkerSpec.WalkCacheSpec(2, 16)));
    return new MachineSpec("test-" + isa, "kernel test machine", isa, cores, 2.0, 64L << 20, 4, 0, levels, walker,
        ConfigSection.empty("/" + isa), ConfigSection.empty("/kernel"));
  }

  static Isa isa(String id) {
    return IsaRegistry.load().get(id).create(ConfigSection.empty("/" + id));
  }

  static Machine machine(String isa, int cores) {
    return new Machine(spec(isa, cores), isa(isa), 1);
  }

  static KernelConfig defaultKernelConfig() {
    return KernelConfig.defaults();
  }
}
