/**
 * Primitive-keyed collections for the model's hot paths (kernel bookkeeping and oracles that run on
 * every page-table write): no boxing of keys and no entry object per mapping. They depend on
 * nothing else in the emulator.
 */
package org.mmuemu.core.collect;
