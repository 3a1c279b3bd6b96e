/**
 * Writeback and reclaim of page-cache pages ({@code Writeback}): folio_mkclean through the reverse
 * map, the TLB flushes it needs, and dropping clean pages.
 */
package org.mmuemu.kernel.writeback;
