/**
 * Address spaces and their page tables: {@code Mm} (an mm with its VMAs and arch state), {@code
 * Vma}, and {@code PageTableEditor}, which writes descriptors in simulated frames and charges the
 * work.
 */
package org.mmuemu.kernel.mm;
