package org.mmuemu.core.machine;

/**
 * The kernel's page-fault entry point, installed on the machine by the kernel model.
 *
 * <p>Called on the faulting core, on the simulation thread, after the walk that faulted has been
 * charged. The handler charges its own work to that core's clock. When it returns {@code true} the
 * machine walks again and the access continues; {@code false} means the fault could not be resolved
 * (a segmentation fault) and the access is abandoned.
 */
@FunctionalInterface
public interface FaultHandler {

  /**
   * @param core the faulting core
   * @param va the faulting virtual address
   * @param kind the access that faulted
   * @param permission true for a permission fault on a present translation, false for a translation
   *     fault (no valid descriptor)
   */
  boolean handleFault(int core, long va, AccessKind kind, boolean permission);
}
