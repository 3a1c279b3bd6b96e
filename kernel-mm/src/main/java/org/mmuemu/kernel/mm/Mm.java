package org.mmuemu.kernel.mm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A process address space (Linux {@code struct mm_struct}): its VMAs, its page tables (the root
 * table's frame) and its address-space tag.
 *
 * <p>VMAs are kept sorted by start address; a lookup is a binary search whose probes the
 * kernel charges like the visits of Linux's maple tree. Confined to the simulation thread.
 */
public final class Mm {
  private final int id;
  private final long rootPfn;
  private final int asid;
  private final List<Vma> vmas = new ArrayList<>();

  public Mm(int id, long rootPfn, int asid) {
    this.id = id;
    this.rootPfn = rootPfn;
    this.asid = asid;
  }

  public int id() {
    return id;
  }

  /** Frame of the root (PGD) table. */
  public long rootPfn() {
    return rootPfn;
  }

  /** Address-space tag (ASID or PCID) this mm runs with. */
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
    while (position < vmas.size() && Long.compareUnsigned(vmas.get(position).startVa(), vma.startVa()) < 0) {
      position++;
    }
    boolean overlapsPrevious = position > 0 && Long.compareUnsigned(vmas.get(position - 1).endVa(), vma.startVa()) > 0;
    boolean overlapsNext = position < vmas.size() && Long.compareUnsigned(vma.endVa(), vmas.get(position).startVa()) > 0;
    if (overlapsPrevious || overlapsNext) {
      throw new IllegalArgumentException("vma " + vma.name() + " overlaps an existing mapping");
    }
    vmas.add(position, vma);
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
