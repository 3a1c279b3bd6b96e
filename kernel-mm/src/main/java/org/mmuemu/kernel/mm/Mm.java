package org.mmuemu.kernel.mm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.mmuemu.kernel.lock.RwSemaphore;
import org.mmuemu.kernel.lock.SimLock;

/**
 * A process address space (Linux {@code struct mm_struct}): its VMAs, its page tables (the root
 * table's frame) and its address-space tag.
 *
 * <p>VMAs are kept sorted by start address; a lookup is a binary search whose probes the kernel
 * charges like the visits of Linux's maple tree. Confined to the simulation thread.
 */
public final class Mm {
  private final int id;
  private final long rootPfn;
  private int asid;
  private Object archState;
  private final List<Vma> vmas = new ArrayList<>();
  private int tlbFlushPending;
  private final RwSemaphore mmapLock = new RwSemaphore("mmap_lock", "mmapLock");
  private final org.mmuemu.core.collect.LongObjectMap<SimLock> pteLocks =
      new org.mmuemu.core.collect.LongObjectMap<>();
  // Each VMA record's lock state; by identity, since equal records may be distinct VMAs.
  private final java.util.IdentityHashMap<Vma, VmaLock> vmaLocks =
      new java.util.IdentityHashMap<>();
  private int mmLockSeq;
  private long seqAdvancedAtCycle;

  /**
   * @param asid the address-space tag, or -1 until the arch policy assigns one
   */
  public Mm(int id, long rootPfn, int asid) {
    this.id = id;
    this.rootPfn = rootPfn;
    this.asid = asid;
  }

  /** Sets the tag (the arch policy's allocator decides). */
  public void setAsid(int newAsid) {
    this.asid = newAsid;
  }

  /** The arch policy's own per-mm state (arm64 context id, x86 tlb_gen), or null. */
  public Object archState() {
    return archState;
  }

  public void setArchState(Object state) {
    this.archState = state;
  }

  /** {@code mm->mmap_lock}. */
  public RwSemaphore mmapLock() {
    return mmapLock;
  }

  /**
   * {@code mm->mm_lock_seq}: advanced by {@link VmaLocking} at every mmap write unlock and
   * downgrade ({@code vma_end_write_all}); a VMA whose {@link VmaLock#vmLockSeq} equals it is
   * write-locked.
   */
  public int mmLockSeq() {
    return mmLockSeq;
  }

  /** The cycle of the last advance of {@link #mmLockSeq}, 0 before the first. */
  public long seqAdvancedAtCycle() {
    return seqAdvancedAtCycle;
  }

  void advanceLockSeq(long atCycle) {
    mmLockSeq++;
    seqAdvancedAtCycle = atCycle;
  }

  /** The lock state of {@code vma}, a record in this mm's list, or null when it is not one. */
  public VmaLock vmaLock(Vma vma) {
    return vmaLocks.get(vma);
  }

  /**
   * Gives {@code vma} an {@code anon_vma} if it has none yet (Linux {@code anon_vma_prepare}, done
   * by the first fault that maps an anonymous page in it, under {@code mmap_lock}).
   *
   * @return whether it had none before
   */
  public boolean anonVmaPrepare(Vma vma) {
    VmaLock lock = vmaLocks.get(vma);
    if (lock == null || lock.hasAnonVma()) {
      return false;
    }
    lock.setAnonVma();
    return true;
  }

  /**
   * Gives {@code [from, to)} of {@code vma} the PTE flags {@code flags} (mprotect's {@code
   * mprotect_fixup}): the VMA is split where the range ends inside it, the part below keeping the
   * VMA's lock state (the split-off parts get their own, as Linux's {@code __split_vma} allocates
   * them). The caller holds the mmap write lock and has write-locked {@code vma}.
   *
   * @return the record now covering {@code [from, to)}
   */
  public Vma changeFlags(Vma vma, long from, long to, int flags) {
    VmaLock lock = vmaLocks.remove(vma);
    int position = vmas.indexOf(vma);
    List<Vma> parts = new ArrayList<>(3);
    if (Long.compareUnsigned(vma.startVa(), from) < 0) {
      parts.add(vma.slice(vma.startVa(), from));
    }
    Vma changed = vma.slice(from, to).withFlags(flags);
    parts.add(changed);
    if (Long.compareUnsigned(to, vma.endVa()) < 0) {
      parts.add(vma.slice(to, vma.endVa()));
    }
    vmas.remove(position);
    vmas.addAll(position, parts);
    lock.replace(parts.get(0));
    vmaLocks.put(parts.get(0), lock);
    for (int i = 1; i < parts.size(); i++) {
      vmaLocks.put(parts.get(i), lock.splitOff(parts.get(i)));
    }
    return changed;
  }

  /**
   * The lock of the last-level page table that maps {@code va} (Linux's split PTE lock, {@code
   * pte_lockptr}): one per 2 MiB of address space, the span of one PTE table on both ISAs' 4 KiB
   * granule.
   */
  public SimLock pteLock(long va) {
    return pteLocks.computeIfAbsent(va >>> PTE_TABLE_SPAN_SHIFT, span -> new SimLock("ptl"));
  }

  private static final int PTE_TABLE_SPAN_SHIFT = 21;

  /** Gathers in progress on this mm ({@code mm->tlb_flush_pending}). */
  public int tlbFlushPending() {
    return tlbFlushPending;
  }

  public void incTlbFlushPending() {
    tlbFlushPending++;
  }

  public void decTlbFlushPending() {
    tlbFlushPending--;
  }

  public int id() {
    return id;
  }

  /** Frame of the root (PGD) table. */
  public long rootPfn() {
    return rootPfn;
  }

  /** Address-space tag (ASID or PCID) this mm runs with, -1 before the first switch to it. */
  public int asid() {
    return asid;
  }

  public List<Vma> vmas() {
    return Collections.unmodifiableList(vmas);
  }

  /**
   * Adds a VMA.
   *
   * @throws IllegalArgumentException when it overlaps an existing one
   */
  public void addVma(Vma vma) {
    int position = 0;
    while (position < vmas.size()
        && Long.compareUnsigned(vmas.get(position).startVa(), vma.startVa()) < 0) {
      position++;
    }
    boolean overlapsPrevious =
        position > 0 && Long.compareUnsigned(vmas.get(position - 1).endVa(), vma.startVa()) > 0;
    boolean overlapsNext =
        position < vmas.size()
            && Long.compareUnsigned(vma.endVa(), vmas.get(position).startVa()) > 0;
    if (overlapsPrevious || overlapsNext) {
      throw new IllegalArgumentException("vma " + vma.name() + " overlaps an existing mapping");
    }
    vmas.add(position, vma);
    vmaLocks.put(vma, new VmaLock(vma));
  }

  /**
   * Removes {@code [startVa, endVa)} from the VMAs, splitting a VMA that covers part of it.
   *
   * @return whether any VMA overlapped the range
   */
  public boolean removeRange(long startVa, long endVa) {
    boolean overlapped = false;
    List<Vma> kept = new ArrayList<>();
    for (Vma vma : vmas) {
      boolean overlaps =
          Long.compareUnsigned(vma.startVa(), endVa) < 0
              && Long.compareUnsigned(startVa, vma.endVa()) < 0;
      if (!overlaps) {
        kept.add(vma);
        continue;
      }
      overlapped = true;
      VmaLock lock = vmaLocks.remove(vma);
      VmaLock keptLock = null;
      if (Long.compareUnsigned(vma.startVa(), startVa) < 0) {
        keptLock = keep(kept, lock, null, vma.slice(vma.startVa(), startVa));
      }
      if (Long.compareUnsigned(endVa, vma.endVa()) < 0) {
        keptLock = keep(kept, lock, keptLock, vma.slice(endVa, vma.endVa()));
      }
      if (keptLock == null) {
        lock.detach(); // removed from the tree whole
      }
    }
    vmas.clear();
    vmas.addAll(kept);
    return overlapped;
  }

  // The first part left of a split VMA keeps its lock state (it is the same VMA, shrunk); a second
  // part gets its own.
  private VmaLock keep(List<Vma> kept, VmaLock lock, VmaLock alreadyKept, Vma part) {
    kept.add(part);
    if (alreadyKept == null) {
      lock.replace(part);
      vmaLocks.put(part, lock);
      return lock;
    }
    vmaLocks.put(part, lock.splitOff(part));
    return alreadyKept;
  }

  /**
   * Finds the VMA containing {@code va}.
   *
   * @param probes receives in element 0 the number of nodes visited
   * @return the VMA, or null
   */
  public Vma findVma(long va, int[] probes) {
    int low = 0;
    int high = vmas.size() - 1;
    int visited = 0;
    while (low <= high) {
      int middle = (low + high) >>> 1;
      visited++;
      Vma vma = vmas.get(middle);
      if (Long.compareUnsigned(va, vma.startVa()) < 0) {
        high = middle - 1;
      } else if (Long.compareUnsigned(va, vma.endVa()) >= 0) {
        low = middle + 1;
      } else {
        probes[0] = visited;
        return vma;
      }
    }
    probes[0] = Math.max(1, visited);
    return null;
  }
}
