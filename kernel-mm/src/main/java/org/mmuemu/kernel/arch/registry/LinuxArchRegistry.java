package org.mmuemu.kernel.arch.registry;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.kernel.arch.ArchMachine;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.arch.arm64.Arm64ArchConfig;
import org.mmuemu.kernel.arch.arm64.Arm64LinuxArch;
import org.mmuemu.kernel.arch.x86.X86ArchConfig;
import org.mmuemu.kernel.arch.x86.X86LinuxArch;
import org.mmuemu.kernel.config.KernelConfig;

/**
 * The arch layers kernel-mm has, by ISA id: an explicit, closed registry (as Linux's arch/ tree
 * is), one line per architecture. Each factory takes its own typed part of the kernel config.
 * Adding an ISA adds a line here (docs/adding-an-isa.md).
 */
public final class LinuxArchRegistry {
  /**
   * Builds one arch layer from the kernel context and the whole kernel config (it takes its own
   * part).
   */
  @FunctionalInterface
  public interface Factory {
    LinuxArch create(KernelArchContext context, KernelConfig config);
  }

  /** One architecture: how to build it and how it checks a kernel config. */
  private record Entry(
      Factory factory, BiFunction<ArchMachine, KernelConfig, List<ConfigProblem>> check) {}

  private static final Map<String, Entry> ARCHES = arches();

  private LinuxArchRegistry() {}

  private static Map<String, Entry> arches() {
    Map<String, Entry> arches = new LinkedHashMap<>();
    arches.put(
        "arm64",
        new Entry(
            (context, config) -> Arm64LinuxArch.create(context, Arm64ArchConfig.from(config)),
            Arm64ArchConfig::check));
    arches.put(
        "x86",
        new Entry(
            (context, config) -> X86LinuxArch.create(context, X86ArchConfig.from(config)),
            X86ArchConfig::check));
    return Collections.unmodifiableMap(arches);
  }

  /** The ISA ids with an arch layer, in registration order. */
  public static Set<String> isaIds() {
    return ARCHES.keySet();
  }

  /**
   * The arch's own checks of a machine config (for example, more cores than its ASID allocator
   * serves, or variants of another architecture set away from their defaults); empty for an ISA
   * with no arch layer.
   */
  public static List<ConfigProblem> check(String isaId, ArchMachine machine, KernelConfig config) {
    Entry entry = ARCHES.get(isaId);
    return entry == null ? List.of() : entry.check().apply(machine, config);
  }

  /**
   * Builds the arch layer for {@code isaId}.
   *
   * @throws IllegalArgumentException for an ISA with no arch layer, naming the ones there are
   */
  public static LinuxArch create(String isaId, KernelArchContext context, KernelConfig config) {
    Entry entry = ARCHES.get(isaId);
    if (entry == null) {
      throw new IllegalArgumentException(
          "isa: "
              + isaId
              + " (expected one with a Linux arch layer: "
              + String.join(", ", ARCHES.keySet())
              + ")");
    }
    return entry.factory().create(context, config);
  }
}
