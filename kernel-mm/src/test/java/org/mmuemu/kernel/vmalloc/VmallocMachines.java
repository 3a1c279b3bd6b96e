package org.mmuemu.kernel.vmalloc;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.config.KernelConfig;

/** Small machines with a booted kernel for the vmalloc tests, built without the configs module. */
public final class VmallocMachines {
  private VmallocMachines() {}

  static MachineSpec spec(String isa, int cores, long memoryBytes) {
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
    return new MachineSpec("test-" + isa, "vmalloc test machine", isa, cores, 2.0, memoryBytes, 4, 0, levels,
        walker, ConfigSection.empty("/" + isa), ConfigSection.empty("/kernel"));
  }

  static Isa isa(String id) {
    return IsaRegistry.load().get(id).create(ConfigSection.empty("/" + id));
  }

  /** A kernel on a {@code cores}-core machine with 256 MiB, with the given variants. */
  static Kernel kernel(String isa, int cores, Map<String, String> variants) {
    return kernel(isa, cores, 256L << 20, variants);
  }

  /** A kernel on a machine with {@code memoryBytes}; every core runs a kernel thread. */
  public static Kernel kernel(String isa, int cores, long memoryBytes, Map<String, String> variants) {
    Machine machine = new Machine(spec(isa, cores, memoryBytes), isa(isa), 1);
    Map<String, Object> kernelSection = new TreeMap<>();
    kernelSection.put("variants", new TreeMap<String, Object>(variants));
    KernelConfig config = KernelConfig.read(new ConfigSection("/kernel", kernelSection));
    Kernel kernel = new Kernel(machine, config);
    for (int core = 0; core < cores; core++) {
      kernel.switchToKernelThread(core);
    }
    machine.actOn(0);
    return kernel;
  }

  static Kernel kernel(String isa, int cores) {
    return kernel(isa, cores, Map.of());
  }
}
