/**
 * Race scenarios: a machine, per-CPU programs of kernel calls and memory accesses, an optional
 * scripted order of the CPUs at named interleaving points, and the outcome expected per variant
 * (see docs/scenarios.md); the schedule policies that run them (a scripted order, a recorded
 * schedule replayed exactly) and the explorer that searches interleavings (random, PCT, bounded
 * exhaustive).
 */
package org.mmuemu.kernel.scenario;
