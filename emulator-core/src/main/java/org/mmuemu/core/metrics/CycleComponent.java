package org.mmuemu.core.metrics;

/**
 * Where a core's cycles went, by the machine operation that charged them: the components of the
 * cycles-per-operation breakdown in comparison reports. Each is summed over every core.
 *
 * <p>{@code // MODEL:} cycles not charged through one of these (user accesses, TLB lookup hits,
 * fault entry, lock spins, idle waits) are the remainder of the cores' clocks, reported as "other"
 * by readers; an IPI's acknowledgement wait counts as IPI cycles only where the machine or the arch
 * policy waits through {@link org.mmuemu.core.machine.Machine#sendIpis} or {@link
 * org.mmuemu.core.machine.Machine#waitForIpiAcknowledgements}.
 */
public enum CycleComponent {
  /** Issue cost of TLB invalidation and context-register maintenance instructions. */
  TLB_MAINTENANCE("tlbMaintenance"),
  /** Barrier cost plus the wait for outstanding broadcast invalidations (DSB, TLBSYNC). */
  BARRIERS("barriers"),
  /** IPI send cost and acknowledgement waits on the initiator, handler entry on targets. */
  IPIS("ipis"),
  /** Hardware page-table walks. */
  WALKS("walks"),
  /** Kernel work charged per unit of work from the config's kernel cost table. */
  KERNEL_WORK("kernelWork");

  private final String key;

  CycleComponent(String key) {
    this.key = key;
  }

  /** The name in result files and reports ({@code tlbMaintenance}, {@code walks}). */
  public String key() {
    return key;
  }
}
