package org.mmuemu.core.time;

/**
 * What one simulated core runs: a sequence of steps (an access, a kernel call), each of which
 * advances that core's clock by what it cost.
 */
@FunctionalInterface
public interface CoreProgram {

  /**
   * Runs the next step on {@code core}.
   *
   * @return whether more steps remain
   */
  boolean step(int core);
}
