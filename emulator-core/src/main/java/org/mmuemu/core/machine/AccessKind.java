package org.mmuemu.core.machine;

/** What an access does with the memory it reaches. */
public enum AccessKind {
  /** An instruction fetch: translated by the levels that serve instructions. */
  FETCH,
  /** A data load. */
  READ,
  /** A data store (a read-modify-write translates once, as a store). */
  WRITE
}
