package org.mmuemu.kernel.arch.registry;

import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.mmuemu.core.config.ConfigProblem;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.arch.arm64.Arm64ArchConfig;
import org.mmuemu.kernel.arch.arm64.Arm64LinuxArch;
import org.mmuemu.kernel.arch.x86.X86ArchConfig;
import org.mmuemu.kernel.arch.x86.X86LinuxArch;
import org.mmuemu.kernel.config.KernelConfig;

/**
 * The arch layers kernel-mm has, by ISA id: an explicit, closed registry (as Linux's arch/
 * tree is), one line per architecture. Each factory takes its own typed part of the kernel
 * config. Adding an ISA adds a line here (docs/adding-an-isa.md).
 */
public final class LinuxArchRegistry {
  /** Builds one arch layer from the kernel context and the whole kernel config (it takes its own part). */
  @FunctionalInterface
  public interface Factory {
    LinuxArch create(KernelArchContext context, KernelConfig config);
  }

  private static final Map<String, Factory> FACTORIES = factories();
  private static final Map<String, Function<KernelConfig, List<ConfigProblem>>> CHECKS = Map.of(
      "arm64", Arm64ArchConfig::check,
      "x86", X86ArchConfig::check);

  private LinuxArchRegistry() {}

  private static Map<String, Factory> factories() {
    Map<String, Factory> factories = new LinkedHashMap<>();
    factories.put("arm64", (context, config) -> new Arm64LinuxArch(context, Arm64ArchConfig.from(config)));
    factories.put("x86", (context, config) -> new X86LinuxArch(context, X86ArchConfig.from(config)));
    return Collections.unmodifiableMap(factories);
  }

  /** The ISA ids with an arch layer, in registration order. */
  public static Set<String> isaIds() {
    return FACTORIES.keySet();
  }

  /**
   * The arch's own checks of a kernel config (for example, variants of another architecture
   * set away from their defaults); empty for an ISA with no arch layer.
   */
  public static List<ConfigProblem> check(String isaId, KernelConfig config) {
    Function<KernelConfig, List<ConfigProblem>> check = CHECKS.get(isaId);
    return check == null ? List.of() : check.apply(config);
  }

  /**
   * Builds the arch layer for {@code isaId}.
   *
   * @throws IllegalArgumentException for an ISA with no arch layer, naming the ones there are
   */
  public static LinuxArch create(String isaId, KernelArchContext context, KernelConfig config) {
    Factory factory = FACTORIES.get(isaId);
    if (factory == null) {
      throw new IllegalArgumentException("isa: " + isaId + " (expected one with a Linux arch layer: "
          + String.join(", ", FACTORIES.keySet()) + ")");
    }
    return factory.create(context, config);
  }
}
