/**
 * The registry of named workloads ({@code Workloads}) that {@code mmuemu run --workload} and the
 * control port accept. It sits above the workloads (registry, then each workload's code, then the
 * workload SPI), so a workload kept apart, like test_vmalloc, adds no cycle.
 */
package org.mmuemu.kernel.workload.registry;
