/**
 * The page cache of file-backed shared mappings: files, their cached pages with dirty state and
 * gather references.
 */
package org.mmuemu.kernel.pagecache;
