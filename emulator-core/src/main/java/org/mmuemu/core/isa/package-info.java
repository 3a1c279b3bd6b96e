/**
 * The ISA service-provider interface: what an instruction-set architecture supplies to the generic
 * machine. An IsaProvider, found through ServiceLoader and the IsaRegistry, creates an Isa from its
 * config section: the page-table descriptor format, the translation regime (which root and tag a VA
 * uses), the maintenance instructions that name and price each neutral Invalidation and barrier,
 * interrupt costs, and optionally a TableUpdateChecker for the ISA's rules on live table updates
 * (arm64 break-before-make). The ISA modules implement these; nothing here knows a particular ISA.
 */
package org.mmuemu.core.isa;
