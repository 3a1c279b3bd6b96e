/**
 * What the command line and the control port share to run a simulation: the one run path
 * (SimulationRunner, which adds the host facts) and the exit codes. Kept apart so that {@code app}
 * and {@code app.serve} both depend on it and not on each other.
 */
package org.mmuemu.app.runner;
