/**
 * The workloads a run can execute ({@code Workloads} lists them): stream, the mm workloads,
 * Linux's test_vmalloc, trace replay; each declares its parameters ({@code WorkloadParam}).
 */
package org.mmuemu.kernel.workload;
