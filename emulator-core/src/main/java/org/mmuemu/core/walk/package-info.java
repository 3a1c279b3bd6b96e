/**
 * The generic page-table walker: follows any ISA's descriptor format level by level through tables
 * in simulated frames, uses per-level walk caches (paging-structure caches), counts memory
 * references, charges the configured cycles and reports walks through freed tables to the oracle.
 * Results go into a reusable WalkResult, so a walk allocates nothing.
 */
package org.mmuemu.core.walk;
