/**
 * The mmuemu command line (picocli): run, replay, compare, sweep, bench, list and validate, the
 * summary printer, the trace files a run writes and how they end when a run stops early. Bad input
 * becomes a one-line error and exit code 2.
 */
package org.mmuemu.app;
