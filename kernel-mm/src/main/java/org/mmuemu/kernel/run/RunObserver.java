package org.mmuemu.kernel.run;

import org.mmuemu.core.machine.Machine;

/**
 * Watches a run from the simulation thread without changing it: told when the machine is built and
 * each time the run polls for cancellation (every few thousand scheduler steps). An observer only
 * reads the machine (clocks, TLB occupancy), so a run is the same with or without one.
 */
public interface RunObserver {
  /** Observes nothing. */
  RunObserver NONE = new RunObserver() {};

  /** An observer that tells each of {@code observers}, in order. */
  static RunObserver all(RunObserver... observers) {
    RunObserver[] copy = observers.clone();
    return new RunObserver() {
      @Override
      public void started(Machine machine) {
        for (RunObserver observer : copy) {
          observer.started(machine);
        }
      }

      @Override
      public void polled(Machine machine) {
        for (RunObserver observer : copy) {
          observer.polled(machine);
        }
      }
    };
  }

  /** The machine is built and the trace sinks attached; no step has run yet. */
  default void started(Machine machine) {}

  /** The run is polling for cancellation: a point to read progress. */
  default void polled(Machine machine) {}
}
