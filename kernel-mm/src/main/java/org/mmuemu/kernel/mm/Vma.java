package org.mmuemu.kernel.mm;

import org.mmuemu.core.isa.PteFlags;

/**
 * A virtual memory area of a process: {@code [startVa, endVa)}, page aligned, with the
 * {@link PteFlags} its pages get (WRITE, EXEC; USER is implied) and a name for reports.
 */
public record Vma(long startVa, long endVa, int flags, String name) {
  public Vma {
    if ((startVa & 0xFFF) != 0 || (endVa & 0xFFF) != 0 || Long.compareUnsigned(startVa, endVa) >= 0) {
      throw new IllegalArgumentException("vma [0x" + Long.toHexString(startVa) + ", 0x" + Long.toHexString(endVa)
          + ") (expected: page-aligned, start below end)");
    }
  }

  public boolean contains(long va) {
    return Long.compareUnsigned(va, startVa) >= 0 && Long.compareUnsigned(va, endVa) < 0;
  }

  public boolean writable() {
    return (flags & PteFlags.WRITE) != 0;
  }

  public long sizeBytes() {
    return endVa - startVa;
  }
}
