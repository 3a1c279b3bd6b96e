/**
 * Simulated physical memory: 4 KiB frames with a kind (free, data, page table, kernel) and an
 * allocation stamp that grows with every allocation, page-table frames holding their descriptors in
 * primitive arrays, and the listeners through which the machine records frame history and an ISA's
 * checker sees descriptor writes.
 */
package org.mmuemu.core.mem;
