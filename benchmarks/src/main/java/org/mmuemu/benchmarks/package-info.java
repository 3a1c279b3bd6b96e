/**
 * JMH benchmarks of the hot paths: a TLB lookup hit, Machine.translate hitting the L1 data TLB, a
 * replay of a real lackey trace and a whole stream run. Machines are built in code with core's test
 * kit, so host speed is measured apart from the JSON loader.
 */
package org.mmuemu.benchmarks;
