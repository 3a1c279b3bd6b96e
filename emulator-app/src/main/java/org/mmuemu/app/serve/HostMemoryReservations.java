package org.mmuemu.app.serve;

/**
 * The control server's host-memory budget, shared by its runs: a run reserves what its machine may
 * cost ({@link org.mmuemu.core.mem.HostMemoryBudget#hostBytesFor}) before it starts and returns it
 * when it ends, and a run that does not fit beside the runs in flight is refused, so concurrent
 * large configs cannot together exhaust the heap. Thread-safe.
 */
final class HostMemoryReservations {
  private final long budgetBytes;
  private long reservedBytes;

  HostMemoryReservations(long budgetBytes) {
    this.budgetBytes = budgetBytes;
  }

  /** Reserves {@code bytes} if they fit beside the current reservations. */
  synchronized boolean tryReserve(long bytes) {
    if (bytes > budgetBytes - reservedBytes) {
      return false;
    }
    reservedBytes += bytes;
    return true;
  }

  synchronized void release(long bytes) {
    reservedBytes -= bytes;
  }

  synchronized long reservedBytes() {
    return reservedBytes;
  }

  long budgetBytes() {
    return budgetBytes;
  }
}
