/**
 * The workload SPI ({@code Workload}, its declared parameters {@code WorkloadParam} resolved into
 * {@code WorkloadArgs}) and the built-in workloads small enough to share it: stream, the mm
 * workloads and trace replay. test_vmalloc lives under {@code testvmalloc}, the registry of named
 * workloads under {@code registry}.
 */
package org.mmuemu.kernel.workload;
