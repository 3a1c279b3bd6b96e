/**
 * The test kit in emulator-core's test jar, shared by every module's tests and the benchmarks:
 * MachineSpecBuilder (a machine spec by named settings), SmallMachines (hand-sized TLBs and walker
 * whose every cycle can be worked out by hand), FakeIsa (a minimal ISA so core can be tested
 * without either real one) and PageTableWriter (builds page tables in simulated memory).
 */
package org.mmuemu.core.testkit;
