package org.mmuemu.kernel.mm;

/**
 * The access-pattern hint {@code madvise} records on a VMA: {@code MADV_NORMAL} clears it, {@code
 * MADV_SEQUENTIAL} sets Linux's {@code VM_SEQ_READ}, {@code MADV_RANDOM} sets {@code VM_RAND_READ}
 * (the two exclude each other). Readahead reads it; reclaim reads it through {@link #hasRecency}.
 */
public enum ReadAdvice {
  /** No hint ({@code MADV_NORMAL}). */
  NORMAL("normal"),
  /** {@code MADV_SEQUENTIAL}: {@code VM_SEQ_READ}. */
  SEQUENTIAL("sequential"),
  /** {@code MADV_RANDOM}: {@code VM_RAND_READ}. */
  RANDOM("random");

  private final String adviceName;

  ReadAdvice(String adviceName) {
    this.adviceName = adviceName;
  }

  /** The name a workload parameter uses ({@code normal}, {@code sequential}, {@code random}). */
  public String adviceName() {
    return adviceName;
  }

  /**
   * Linux 6.3+ {@code vma_has_recency}: whether accesses through the VMA show temporal locality, so
   * that reclaim's LRU may count them. Both hints say they do not ({@code VM_SEQ_READ} is linear
   * access, {@code VM_RAND_READ} no reuse).
   *
   * <p>{@code // MODEL:} files carry no {@code FMODE_NOREUSE} ({@code POSIX_FADV_NOREUSE}), the
   * other reason Linux answers false.
   */
  public boolean hasRecency() {
    return this == NORMAL;
  }

  /** The advice named {@code name}. */
  public static ReadAdvice named(String name) {
    for (ReadAdvice advice : values()) {
      if (advice.adviceName.equals(name)) {
        return advice;
      }
    }
    throw new IllegalArgumentException(
        "read advice: " + name + " (expected: normal, sequential or random)");
  }
}
