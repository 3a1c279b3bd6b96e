/**
 * The machine configuration as the simulation consumes it: the validated MachineSpec with its TLB
 * levels and walker, byte sizes, and the ConfigSection through which each ISA and the kernel read
 * their own sections and record problems as JSON-pointer-addressed ConfigProblems. Parsing JSON is
 * the configs module's job; nothing here depends on a JSON library.
 */
package org.mmuemu.core.config;
