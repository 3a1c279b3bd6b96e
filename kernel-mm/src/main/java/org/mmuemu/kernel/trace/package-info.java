/**
 * Memory-trace input for replay: valgrind lackey text parsed into {@code MemoryRecord}s, with
 * line-numbered errors.
 */
package org.mmuemu.kernel.trace;
