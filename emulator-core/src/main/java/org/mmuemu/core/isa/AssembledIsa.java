package org.mmuemu.core.isa;

/**
 * An {@link Isa} put together from its parts, for providers whose ISA is nothing more than its
 * format, regime, maintenance instructions and interrupt costs.
 */
public record AssembledIsa(
    String id,
    PageTableFormat pageTableFormat,
    TranslationRegime regime,
    MaintenanceInstructions maintenance,
    InterruptCosts interrupts)
    implements Isa {}
