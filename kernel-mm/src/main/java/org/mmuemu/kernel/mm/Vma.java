package org.mmuemu.kernel.mm;

import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.kernel.pagecache.MappedFile;

/**
 * A virtual memory area of a process: {@code [startVa, endVa)}, page aligned, with the {@link
 * PteFlags} its pages get (WRITE, EXEC; USER is implied) and a name for reports.
 *
 * @param file the file a shared file mapping maps (its pages come from the page cache), or null for
 *     anonymous private memory
 * @param fileOffsetBytes offset in {@code file} of {@code startVa}, page aligned
 */
public record Vma(
    long startVa, long endVa, int flags, String name, MappedFile file, long fileOffsetBytes) {
  public Vma {
    if ((startVa & 0xFFF) != 0
        || (endVa & 0xFFF) != 0
        || Long.compareUnsigned(startVa, endVa) >= 0) {
      throw new IllegalArgumentException(
          "vma [0x"
              + Long.toHexString(startVa)
              + ", 0x"
              + Long.toHexString(endVa)
              + ") (expected: page-aligned, start below end)");
    }
    if ((fileOffsetBytes & 0xFFF) != 0 || fileOffsetBytes < 0) {
      throw new IllegalArgumentException(
          "vma "
              + name
              + ": file offset "
              + fileOffsetBytes
              + " (expected: page-aligned, not negative)");
    }
  }

  /** An anonymous private mapping. */
  public Vma(long startVa, long endVa, int flags, String name) {
    this(startVa, endVa, flags, name, null, 0);
  }

  public boolean contains(long va) {
    return Long.compareUnsigned(va, startVa) >= 0 && Long.compareUnsigned(va, endVa) < 0;
  }

  public boolean writable() {
    return (flags & PteFlags.WRITE) != 0;
  }

  /** Whether this is a shared file mapping. */
  public boolean fileBacked() {
    return file != null;
  }

  /** The file page {@code va} maps (only for a file mapping). */
  public long filePageIndex(long va) {
    return (va - startVa + fileOffsetBytes) >>> 12;
  }

  public long sizeBytes() {
    return endVa - startVa;
  }
}
