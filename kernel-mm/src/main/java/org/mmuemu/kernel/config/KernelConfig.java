package org.mmuemu.kernel.config;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;

/**
 * The machine config's {@code /kernel} section, read and checked once at load: the typed cost
 * table, the selected behaviour variants and the run-time tunables. Components take their own part
 * from it at boot (the vmalloc part, each arch's part) and never look anything up by name
 * afterwards.
 *
 * @param costs cycles per unit of work ({@link KernelCosts})
 * @param variants selected behaviour per variant ({@link KernelVariants})
 * @param tunables Linux's run-time settings ({@link KernelTunables})
 */
public record KernelConfig(KernelCosts costs, KernelVariants variants, KernelTunables tunables) {

  /** Every cost key with its default, in cycles. */
  public static final Map<String, Long> COST_DEFAULTS = KernelCosts.DEFAULTS;

  /** Every tunable with its default. */
  public static final Map<String, Object> TUNABLE_DEFAULTS = KernelTunables.DEFAULTS;

  /** Variant names with their allowed values; the first value is the default. */
  public static final Map<String, List<String>> VARIANTS = KernelVariants.ALLOWED;

  /** Every cost and every variant at its default. */
  public static KernelConfig defaults() {
    return new KernelConfig(
        KernelCosts.defaultCosts(), KernelVariants.defaults(), KernelTunables.defaults());
  }

  /**
   * Reads the section, filling defaults; problems are recorded on {@code section} under their JSON
   * pointer.
   */
  public static KernelConfig read(ConfigSection section) {
    section.rejectUnknownKeys(Set.of("costs", "variants", "tunables"));
    return new KernelConfig(
        KernelCosts.read(section.section("costs")),
        KernelVariants.read(section.section("variants")),
        KernelTunables.read(section.section("tunables")));
  }

  /** Checks the section and returns every problem. */
  public static List<ConfigProblem> validate(ConfigSection section) {
    read(section);
    return section.problems();
  }
}
