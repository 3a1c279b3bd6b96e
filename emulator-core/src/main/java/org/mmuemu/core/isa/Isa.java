package org.mmuemu.core.isa;

/**
 * One ISA as configured for a machine: its table format, its translation regime and the names
 * and costs of its TLB maintenance. Created by {@link IsaProvider#create}; immutable.
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
}
