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
  private final java.util.HashMap<Long, SimLock> pteLocks = new java.util.HashMap<>();

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
   * The lock of the last-level page table that maps {@code va} (Linux's split PTE lock, {@code
   * pte_lockptr}): one per 2 MiB of address space, the span of one PTE table on both ISAs' 4 KiB
   * granule.
   */
  public SimLock pteLock(long va) {
    return pteLocks.computeIfAbsent(va >>> PTE_TABLE_SPAN_SHIFT, k -> new SimLock("ptl"));
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
      if (Long.compareUnsigned(vma.startVa(), startVa) < 0) {
        kept.add(vma.slice(vma.startVa(), startVa));
      }
      if (Long.compareUnsigned(endVa, vma.endVa()) < 0) {
        kept.add(vma.slice(endVa, vma.endVa()));
      }
    }
    vmas.clear();
    vmas.addAll(kept);
    return overlapped;
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
