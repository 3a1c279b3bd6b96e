/**
 * Simulated quantities of one run: translation, walk, fault and maintenance counters and cycle
 * distributions (HdrHistogram-backed summaries) that become the result JSON. Host quantities (wall
 * time, throughput) are not kept here.
 */
package org.mmuemu.core.metrics;
