package org.mmuemu.core.isa;

import org.mmuemu.core.oracle.Oracle;

/**
 * An ISA's checker of the rules for updating live translation tables (arm64 break-before-make): the
 * machine tells it of every descriptor write, every TLB invalidation and every barrier, in
 * execution order, and it reports to the {@link Oracle} what the architecture forbids.
 *
 * <p>Confined to the simulation thread.
 */
public interface TableUpdateChecker {

  /**
   * A descriptor of the table in {@code tablePfn} changed from {@code previous} to {@code next}.
   */
  void descriptorWritten(int core, long cycle, long tablePfn, int index, long previous, long next);

  /**
   * A TLB invalidation ran.
   *
   * @param op the operation, with the scope the ISA's instruction really removed; broadcast ones
   *     reached every core, local ones only {@code core}
   * @param vaEnd exclusive; both bounds are ignored for address-space scopes
   */
  void invalidated(int core, Invalidation op, long vaStart, long vaEnd, int asid);

  /** A barrier ran on {@code core}. */
  void barrier(int core, BarrierKind kind);
}
