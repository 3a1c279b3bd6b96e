package org.mmuemu.core.isa;

import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.Oracle;

/**
 * One ISA as configured for a machine: its table format, its translation regime and the names and
 * costs of its TLB maintenance. Created by {@link IsaProvider#create}; immutable.
 */
public interface Isa {

  /** The provider's id ({@code arm64}, {@code x86}). */
  String id();

  PageTableFormat pageTableFormat();

  TranslationRegime regime();

  /** The maintenance instruction set: names and costs of each neutral operation. */
  MaintenanceInstructions maintenance();

  /** The cost of inter-processor interrupts. */
  InterruptCosts interrupts();

  /**
   * Creates this ISA's checker of live table updates for one machine (arm64 break-before-make), or
   * returns null when the ISA has no such rules to check.
   *
   * @param memory the machine's physical memory (read-only use)
   * @param oracle where violations go
   * @param cores the machine's core count
   */
  default TableUpdateChecker newTableUpdateChecker(
      PhysicalMemory memory, Oracle oracle, int cores) {
    return null;
  }
}
