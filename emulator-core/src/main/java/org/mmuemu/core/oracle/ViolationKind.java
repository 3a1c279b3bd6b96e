package org.mmuemu.core.oracle;

/** The correctness properties the always-on oracle checks. */
public enum ViolationKind {
  /** An access hit a TLB entry whose frame was freed or allocated again since the fill. */
  STALE_TLB_USE,
  /** After a call that promises no stale translation remains, a TLB still holds one. */
  UNFLUSHED_ALIAS,
  /** A hardware walk or a walk cache used a page-table frame after it was freed. */
  FREED_TABLE_WALK,
  /** A write reached a cleaned page through a stale translation; it would never reach storage. */
  LOST_WRITE,
  /**
   * A live valid arm64 entry was changed in a way the architecture forbids without invalidating it
   * first.
   */
  BREAK_BEFORE_MAKE,
  /** kernel-mm touched one of its own objects after releasing it. */
  KERNEL_UAF,
  /**
   * A walk used an arm64 contiguous-bit entry whose run of 16 is not all valid, aligned,
   * consecutive and alike: the hardware may use either size, so translations may amalgamate.
   */
  CONTIGUOUS_MISPROGRAMMED,
  /**
   * A page userfaultfd write-protects could be written without a userfault: a uffd-wp PTE is
   * writable (UW1), a TLB still holds a writable entry after the protect returned (UW2), or a
   * marker survived the zap of an anonymous slot (UW3); DOMAIN-FAULTS.md §4.7.
   */
  UFFD_WP,
  /**
   * A per-VMA lock invariant broke (DOMAIN-FAULTS.md §1.9): VL1 a VMA changed while a fault held it
   * for read, VL2 {@code vma_start_write} returned while a reader held the VMA, VL3 {@code
   * mm_lock_seq} advanced other than at an mmap write unlock or downgrade, VL4 {@code
   * lock_vma_under_rcu} returned a detached VMA or one not covering the address.
   */
  VMA_LOCK
}
