package org.mmuemu.kernel.arch;

/**
 * The facts about a machine an arch's config checks read, taken from the machine config before any
 * machine is built.
 *
 * @param cores the machine's cores
 * @param asidBits the ISA's address-space tag width
 */
public record ArchMachine(int cores, int asidBits) {}
