package org.mmuemu.kernel.trace;

import org.mmuemu.core.machine.AccessKind;

/**
 * One memory access of a recorded trace. Mutable and reused by its reader, so reading a trace
 * allocates no record per line.
 */
public final class MemoryRecord {
  /**
   * The access kind; a lackey {@code M} (modify) is a {@link AccessKind#WRITE} with {@link #modify}
   * set.
   */
  public AccessKind kind;

  public boolean modify;
  public long va;
  public int sizeBytes;
}
