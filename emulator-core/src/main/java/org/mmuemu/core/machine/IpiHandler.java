package org.mmuemu.core.machine;

/**
 * The work an inter-processor interrupt does on its target (a TLB flush, say). Runs with the target
 * as the acting core; everything it does is charged to the target's clock.
 */
@FunctionalInterface
public interface IpiHandler {
  void handle(int targetCore, int initiatorCore);
}
