/**
 * Simulated time: one cycle clock per core and the deterministic scheduler that always lets the
 * core with the smallest clock take its next step (ties to the lower core id), optionally letting a
 * core run ahead by a bounded quantum.
 */
package org.mmuemu.core.time;
