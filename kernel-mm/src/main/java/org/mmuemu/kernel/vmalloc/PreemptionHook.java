package org.mmuemu.kernel.vmalloc;

import org.mmuemu.core.machine.Machine;

/**
 * Called at the named points where Linux's vmalloc code runs without a lock held and another CPU
 * may act in between (for example between publishing a lazily freed area and the last use of it).
 * Race scenarios and tests install a hook to run another core's work there; by default nothing
 * happens.
 */
@FunctionalInterface
public interface PreemptionHook {
  /** A hook that does nothing. */
  PreemptionHook NONE = (point, core) -> {};

  /** Name of the point between publishing a lazy area and the code's last access to it. */
  String LAZY_PUBLISHED = "free_vmap_area_noflush:published";

  /**
   * @param point the point's name (one of the constants here)
   * @param core the core that reached it
   */
  void reached(String point, int core);

  /**
   * {@code core} reaches the named preemption {@code point}: this hook runs, then the point is an
   * interleaving point of the scheduler like any other.
   */
  default void preempt(Machine machine, String point, int core) {
    reached(point, core);
    machine.preemptionPoint(core, point);
  }
}
