/**
 * Kernel operations as traced calls: {@code KernelOperation} brackets each call of a named
 * operation with {@code kernel.call} begin/end events and records its latency, without allocating.
 */
package org.mmuemu.kernel.call;
