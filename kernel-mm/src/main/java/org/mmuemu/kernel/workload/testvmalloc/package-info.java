/**
 * Linux's vmalloc test module (lib/test_vmalloc.c) as a workload: the test cases, the per-core
 * workers that run them against the simulated vmalloc, and the report of passed, failed and xfailed
 * repeats. Depends on the workload SPI only; the registry lists it.
 */
package org.mmuemu.kernel.workload.testvmalloc;
