package org.mmuemu.kernel.mm;

/**
 * Hands each new address space the next free tag, starting at 1 (tag 0 stays with the
 * kernel's own context, as both arm64 and x86 Linux keep it).
 *
 * <p>{@code // MODEL:} a first cut. There is no rollover: Linux's arm64 generation-based
 * allocator and x86's per-CPU dynamic ASIDs come with the per-arch flush policies. With a
 * zero-width tag (x86 without PCID) every space gets tag 0.
 */
public final class SequentialAsidAllocator {
  private final int asidBits;
  private int next = 1;

  public SequentialAsidAllocator(int asidBits) {
    this.asidBits = asidBits;
  }

  /**
   * @throws IllegalStateException when every tag is taken
   */
  public int allocate() {
    if (asidBits == 0) {
      return 0;
    }
    if (next >= (1 << asidBits)) {
      throw new IllegalStateException("all " + ((1 << asidBits) - 1) + " address-space tags are in use");
    }
    return next++;
  }
}
