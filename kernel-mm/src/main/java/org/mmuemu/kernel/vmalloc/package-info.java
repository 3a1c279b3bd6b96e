/**
 * Linux's mm/vmalloc.c: the vmap_area allocator (free-space tree, busy and lazy areas, node pools),
 * vmalloc/vfree/vmap/vunmap and huge vmap, lazy purge, per-CPU vmap blocks and vm_unmap_aliases,
 * the per-CPU allocator's chunks, and kvfree_rcu; see docs/vmalloc.md.
 */
package org.mmuemu.kernel.vmalloc;
