/**
 * x86-64 as the machine sees it: 4- and 5-level paging descriptors with large and global pages and
 * A/D bits, the CR3 regime with PCIDs, INVLPG, INVPCID types 0-3, MOV CR3 with and without NOFLUSH,
 * CR4.PGE, INVLPGB/TLBSYNC, and interrupt costs. Registered through ServiceLoader; depends on
 * emulator-core only.
 */
package org.mmuemu.isa.x86;
