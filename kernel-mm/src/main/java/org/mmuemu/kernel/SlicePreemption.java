package org.mmuemu.kernel;

import java.util.Arrays;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.config.KernelTunables;
import org.mmuemu.kernel.vmalloc.PreemptionHook;

/**
 * {@code preempt=full} on a loaded machine: every CPU is shared with one more CPU-bound task of the
 * same weight, so a task that has run for its slice ({@code base_slice_ns}) gives the CPU to the
 * other for a slice at the next point where its kernel code is preemptible. The named preemption
 * points ({@link PreemptionHook#POINTS}) are those points: the windows Linux's mm code leaves open,
 * so a kernel that relies on a window staying short shows its race in a plain run.
 *
 * <p>Counters: {@code preemptions}, {@code preemptedCycles}.
 *
 * <p>{@code // MODEL:} the competing task is not simulated (it touches no memory and takes no TLB
 * entries); the core is away for exactly one slice and takes interrupts meanwhile, as the other
 * task would. Only the named points preempt: elsewhere Linux could preempt too (any preempt_enable,
 * any interrupt return), but nothing there depends on a window, so the task simply runs on past its
 * slice until it reaches one.
 */
final class SlicePreemption implements PreemptionHook {
  private final Machine machine;
  private final long sliceCycles;
  private final long[] sliceEndCycle;

  SlicePreemption(Machine machine, KernelTunables tunables) {
    this.machine = machine;
    this.sliceCycles =
        Math.max(1, Math.round(tunables.baseSliceNs() * machine.spec().frequencyGHz()));
    this.sliceEndCycle = new long[machine.coreCount()];
    Arrays.fill(sliceEndCycle, sliceCycles);
  }

  @Override
  public void reached(String point, int core) {
    long now = machine.now(core);
    if (now < sliceEndCycle[core]) {
      return;
    }
    long backAt = now + sliceCycles;
    machine.stats().addKernelCounter("preemptions", 1);
    machine.stats().addKernelCounter("preemptedCycles", sliceCycles);
    machine.sleepUntil(core, backAt);
    sliceEndCycle[core] = machine.now(core) + sliceCycles;
  }
}
