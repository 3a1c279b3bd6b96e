/**
 * The reverse map of page-cache pages: which (mm, va) pairs map each frame, as {@code
 * folio_mkclean} and reclaim walk it.
 */
package org.mmuemu.kernel.rmap;
