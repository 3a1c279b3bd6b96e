package org.mmuemu.core.mem;

/**
 * The simulated physical memory has no free frame left: the machine config is too small for the
 * workload.
 */
public final class SimulatedOutOfMemoryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SimulatedOutOfMemoryException(long frames) {
    super(
        "simulated physical memory exhausted: all "
            + frames
            + " frames are in use (raise memoryBytes in the machine config)");
  }
}
