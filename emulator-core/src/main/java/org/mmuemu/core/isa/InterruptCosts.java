package org.mmuemu.core.isa;

/**
 * The cost of inter-processor interrupts on a machine, in cycles.
 *
 * @param sendCycles the initiator pays this per target (an ICR write on x86, an SGI on arm64)
 * @param deliveryCycles from the send until the target can take the interrupt
 * @param handlerEntryCycles the target pays this to enter and leave the handler, on top of the work
 *     the handler does
 * @param ackCycles from the end of the handler until the initiator sees the acknowledgement
 */
public record InterruptCosts(
    long sendCycles, long deliveryCycles, long handlerEntryCycles, long ackCycles) {
  /** The keys of an {@code interrupts} section. */
  public static final java.util.Set<String> KEYS =
      java.util.Set.of("sendCycles", "deliveryCycles", "handlerEntryCycles", "ackCycles");

  /**
   * Reads the {@code interrupts} member of an ISA section, each cost defaulting to {@code
   * defaults}; problems are recorded on the section.
   */
  public static InterruptCosts read(
      org.mmuemu.core.config.ConfigSection isaSection, InterruptCosts defaults) {
    org.mmuemu.core.config.ConfigSection section = isaSection.section("interrupts");
    section.rejectUnknownKeys(KEYS);
    long limit = 100_000_000;
    return new InterruptCosts(
        section.getLong("sendCycles", defaults.sendCycles(), 0, limit),
        section.getLong("deliveryCycles", defaults.deliveryCycles(), 0, limit),
        section.getLong("handlerEntryCycles", defaults.handlerEntryCycles(), 0, limit),
        section.getLong("ackCycles", defaults.ackCycles(), 0, limit));
  }

  public InterruptCosts {
    if (sendCycles < 0 || deliveryCycles < 0 || handlerEntryCycles < 0 || ackCycles < 0) {
      throw new IllegalArgumentException("interrupt costs must be >= 0");
    }
  }
}
