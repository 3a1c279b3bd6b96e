package org.mmuemu.kernel.mm;

import org.mmuemu.kernel.lock.RwSemaphore;

/**
 * The per-VMA lock state of one VMA of an {@link Mm} (Linux 6.4 {@code vm_area_struct}'s {@code
 * vm_lock_seq}, {@code vm_lock->lock}, {@code detached} and the presence of {@code anon_vma};
 * DOMAIN-FAULTS.md §1.2). A {@link Vma} record is immutable, so a change of the VMA's range or
 * protection replaces the record in the mm's list; the {@code VmaLock} is the VMA's identity across
 * such changes and holds the record that is current ({@link #vma}).
 *
 * <p>A VMA is write-locked while {@link #vmLockSeq} equals the mm's {@link Mm#mmLockSeq}; {@code
 * kernel.mm.VmaLocking} implements the protocol on this state. {@link #version} counts changes of
 * the VMA's fields, which is what invariant VL1 compares. Confined to the simulation thread.
 */
public final class VmaLock {
  private final RwSemaphore rwsem = new RwSemaphore("vma_lock", "vmaLock");
  private Vma vma;
  private int vmLockSeq = -1;
  private boolean detached;
  private boolean anonVma;
  private long version;

  VmaLock(Vma vma) {
    this.vma = vma;
  }

  /** The VMA's current record. */
  public Vma vma() {
    return vma;
  }

  /** {@code vma->vm_lock->lock}. */
  public RwSemaphore rwsem() {
    return rwsem;
  }

  /** {@code vm_lock_seq}: the mm's sequence number when the VMA was last write-locked, or -1. */
  public int vmLockSeq() {
    return vmLockSeq;
  }

  void setVmLockSeq(int seq) {
    this.vmLockSeq = seq;
  }

  /** Whether the VMA has been removed from its mm's tree. */
  public boolean detached() {
    return detached;
  }

  /** Whether the VMA has an {@code anon_vma} (set by its first anonymous fault). */
  public boolean hasAnonVma() {
    return anonVma;
  }

  /** Changes of the VMA's range, flags, protection, {@code anon_vma} or tree membership so far. */
  public long version() {
    return version;
  }

  void setAnonVma() {
    if (!anonVma) {
      anonVma = true;
      version++;
    }
  }

  void replace(Vma replacement) {
    vma = replacement;
    version++;
  }

  void detach() {
    detached = true;
    version++;
  }

  /** A lock for {@code part}, split off this VMA: same anon_vma, same write-lock state. */
  VmaLock splitOff(Vma part) {
    VmaLock lock = new VmaLock(part);
    lock.vmLockSeq = vmLockSeq;
    lock.anonVma = anonVma;
    return lock;
  }
}
