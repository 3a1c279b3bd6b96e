/**
 * Address spaces and their page tables: {@code Mm} (an mm with its VMAs and arch state), {@code
 * Vma}, {@code PageTableEditor}, which writes descriptors in simulated frames and charges the work,
 * and {@code ZeroPfns}, the frames of the shared zero pages.
 */
package org.mmuemu.kernel.mm;
