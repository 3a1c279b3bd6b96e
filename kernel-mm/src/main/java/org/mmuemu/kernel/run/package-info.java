/**
 * One simulation run: {@code Simulation} builds the machine, boots the kernel, prepares the
 * workload, runs the cores' programs with the deterministic scheduler and collects the result.
 */
package org.mmuemu.kernel.run;
