package org.mmuemu.isa.arm64;

import static org.mmuemu.core.testkit.SmallMachines.level;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.testkit.MachineSpecBuilder;
import org.mmuemu.core.testkit.SmallMachines;

/**
 * arm64 machines for the ISA's own tests: 128 MiB, {@code l1i} (4 KiB), {@code l1d} (4 KiB, 64 KiB,
 * 2 MiB) and {@code l2} (4 KiB, 64 KiB, 2 MiB, 32 MiB, 1 GiB), the standard walker, and maintenance
 * costs chosen so that every wait can be worked out by hand.
 */
final class Arm64TestMachines {
  static final long KIB_64 = 64L << 10;
  static final long MIB_32 = 32L << 20;
  static final long TLBI_CYCLES = 7;
  static final long TLBI_ALL_CYCLES = 43;
  static final long COMPLETION_BASE_CYCLES = 600;
  static final long COMPLETION_PER_CORE_CYCLES = 150;
  static final long DSB_ISH_CYCLES = 21;
  static final long DSB_ISHST_CYCLES = 19;
  static final long DSB_NSH_CYCLES = 11;
  static final long ISB_CYCLES = 15;

  private Arm64TestMachines() {}

  static List<TlbLevelSpec> levels() {
    return List.of(
        level("l1i", Serves.INSTRUCTION, 16, 4, Replacement.LRU, 1, SmallMachines.KIB_4),
        level(
            "l1d",
            Serves.DATA,
            16,
            16,
            Replacement.LRU,
            1,
            SmallMachines.KIB_4,
            KIB_64,
            SmallMachines.MIB_2),
        level(
            "l2",
            Serves.UNIFIED,
            64,
            8,
            Replacement.LRU,
            4,
            SmallMachines.KIB_4,
            KIB_64,
            SmallMachines.MIB_2,
            MIB_32,
            SmallMachines.GIB_1));
  }

  /** The ISA section with the test costs plus {@code extra} keys. */
  static Map<String, Object> isaConfig(Map<String, Object> extra) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put(
        "costs",
        Map.of(
            "tlbiCycles",
            TLBI_CYCLES,
            "tlbiAllCycles",
            TLBI_ALL_CYCLES,
            "broadcastCompletionBaseCycles",
            COMPLETION_BASE_CYCLES,
            "broadcastCompletionPerCoreCycles",
            COMPLETION_PER_CORE_CYCLES,
            "dsbIshCycles",
            DSB_ISH_CYCLES,
            "dsbIshstCycles",
            DSB_ISHST_CYCLES,
            "dsbNshCycles",
            DSB_NSH_CYCLES,
            "isbCycles",
            ISB_CYCLES));
    config.putAll(extra);
    return config;
  }

  static Machine build(int cores, Map<String, Object> extraIsaConfig) {
    ConfigSection section = SmallMachines.isaSection("arm64", isaConfig(extraIsaConfig));
    MachineSpec spec =
        MachineSpecBuilder.forIsa("arm64")
            .description("arm64 test machine")
            .cores(cores)
            .memoryBytes(128L << 20)
            .tlbLevels(levels())
            .isaSection(section)
            .build();
    Machine machine = SmallMachines.build(IsaRegistry.load().get("arm64"), spec, 1);
    machine.actOn(0);
    return machine;
  }
}
