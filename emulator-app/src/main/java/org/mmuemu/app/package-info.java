/**
 * The mmuemu command line (picocli): run, replay, bench, list and validate, the shared run path
 * (SimulationRunner) that also serves the control port, the summary printer, the JSON-lines
 * trace writer and the exit codes. Bad input becomes a one-line error and exit code 2.
 */
package org.mmuemu.app;
