/**
 * AArch64 as the machine sees it: VMSAv8-64 descriptors with block and contiguous mappings and
 * hardware dirty state, the TTBR0/TTBR1 regime with ASIDs, every TLBI form including FEAT_TLBIRANGE
 * range operands, DSB and ISB, and the break-before-make checker. Registered through ServiceLoader;
 * depends on emulator-core only.
 */
package org.mmuemu.isa.arm64;
