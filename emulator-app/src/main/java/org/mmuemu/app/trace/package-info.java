/**
 * Trace formats written by --trace: the Chrome trace-event writer for Perfetto UI (a track per
 * core, slices, instants, flow arrows and counters, streamed to a writer it is given) and the
 * format names.
 */
package org.mmuemu.app.trace;
