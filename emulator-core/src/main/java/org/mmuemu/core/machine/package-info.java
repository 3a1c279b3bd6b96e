/**
 * The simulated machine, split along the lines gem5 and Linux draw: Machine wires the cores,
 * memory, walker, statistics and oracle together and runs the cores' programs under the scheduler;
 * TranslationPath is the hot path (TLB lookup, walk, fill, the oracle's check of every hit, faults
 * into the kernel); TlbMaintenance executes invalidations, context writes and barriers with
 * broadcast completion timing; Interrupts sends, delivers and acknowledges IPIs. The kernel
 * programs against Machine; the ISA supplies names and costs.
 */
package org.mmuemu.core.machine;
