/**
 * The always-on correctness oracle: violations (stale TLB use, unflushed aliases, walks through
 * freed tables, lost writes, kernel use-after-free, and what ISA checkers report) with the time,
 * core and addresses of each, and the bounded frame history that lets a report show how the frame
 * got there.
 */
package org.mmuemu.core.oracle;
