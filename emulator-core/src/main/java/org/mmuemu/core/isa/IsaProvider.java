package org.mmuemu.core.isa;

import java.util.List;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.core.config.ConfigSection;

/**
 * The service an ISA module registers in {@code META-INF/services/org.mmuemu.core.isa.IsaProvider}.
 * Found at run time by {@link IsaRegistry}; ISA modules are never imported by the kernel or the
 * app.
 */
public interface IsaProvider {

  /** Lower-case id used in machine configs ({@code "isa": "arm64"}). */
  String id();

  /** One line saying what this ISA models. */
  String description();

  /**
   * Checks the machine config's ISA section ({@code /arm64}, {@code /x86}) and returns every
   * problem, unknown keys included. Empty when the section is valid.
   */
  List<ConfigProblem> validate(ConfigSection isaSection);

  /** Creates the ISA from a section that {@link #validate} accepted. */
  Isa create(ConfigSection isaSection);
}
