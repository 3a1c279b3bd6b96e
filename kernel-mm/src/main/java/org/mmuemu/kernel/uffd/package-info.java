/**
 * userfaultfd write-protect (DOMAIN-FAULTS.md §4): registered ranges, the uffd-wp bit, pte markers,
 * {@code UFFDIO_WRITEPROTECT} and the delivery of write faults to a monitor thread.
 */
package org.mmuemu.kernel.uffd;
