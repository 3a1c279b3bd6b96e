package org.mmuemu.core.isa;

/**
 * What a barrier guarantees, in ISA-neutral terms. Each ISA names the instruction ({@code DSB
 * ISHST}, {@code DSB ISH}, {@code ISB}) and prices it.
 */
public enum BarrierKind {
  /**
   * Earlier page-table stores become visible to every core's walker before later maintenance (arm64
   * DSB ISHST).
   */
  TABLE_STORES_VISIBLE,
  /**
   * Wait until this core's broadcast invalidations have completed on every core (arm64 DSB ISH).
   */
  BROADCAST_COMPLETE,
  /** Earlier page-table stores become visible to this core's own walker (arm64 DSB NSHST). */
  LOCAL_TABLE_STORES_VISIBLE,
  /** Wait until this core's local invalidations have completed (arm64 DSB NSH). */
  LOCAL_COMPLETE,
  /** Discard instructions fetched under the old translations (arm64 ISB). */
  CONTEXT_SYNC
}
