/**
 * The result of a run as plain records (RunResult: machine, workload, cycles, TLB and walk counts,
 * maintenance, kernel counters, latencies, violations, host facts) and the builder that assembles
 * it from a finished machine. Writing it as JSON is the configs module's job.
 */
package org.mmuemu.core.result;
