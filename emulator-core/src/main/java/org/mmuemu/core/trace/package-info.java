/**
 * The trace bus: components publish typed events (TLB hit and miss, walk, fill, invalidation,
 * barrier, IPI, fault, violation, frame allocation) as primitive words; when no sink wants a kind,
 * publishing costs one branch and allocates nothing. Instruction names are interned to ids so
 * events stay primitive.
 */
package org.mmuemu.core.trace;
