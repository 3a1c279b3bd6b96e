package org.mmuemu.kernel.mm;

import java.util.Objects;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.kernel.pagecache.MappedFile;

/**
 * A virtual memory area of a process: {@code [startVa, endVa)}, page aligned, with the {@link
 * PteFlags} its pages get (WRITE, EXEC; USER is implied) and a name for reports.
 *
 * @param file the file a file mapping maps (its pages come from the page cache), or null for
 *     anonymous private memory
 * @param fileOffsetBytes offset in {@code file} of {@code startVa}, page aligned
 * @param shared a shared mapping ({@code MAP_SHARED}, Linux {@code VM_SHARED}): stores reach the
 *     file's pages; a private one ({@code MAP_PRIVATE}, anonymous memory included) copies a page on
 *     the first store to it (copy-on-write)
 * @param hugepageAdvised advised with {@code madvise(MADV_HUGEPAGE)} ({@code VM_HUGEPAGE}): with
 *     the tunable {@code thp=madvise}, only such VMAs get transparent huge pages
 * @param readAdvice the access-pattern hint of {@code madvise(MADV_SEQUENTIAL/MADV_RANDOM)} ({@code
 *     VM_SEQ_READ}, {@code VM_RAND_READ}), which reclaim's reference check reads
 */
public record Vma(
    long startVa,
    long endVa,
    int flags,
    String name,
    MappedFile file,
    long fileOffsetBytes,
    boolean shared,
    boolean hugepageAdvised,
    ReadAdvice readAdvice) {
  public Vma {
    Objects.requireNonNull(readAdvice, "readAdvice");
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

  /** A shared file mapping ({@code file} not null) or, with a null file, anonymous memory. */
  public Vma(
      long startVa, long endVa, int flags, String name, MappedFile file, long fileOffsetBytes) {
    this(
        startVa, endVa, flags, name, file, fileOffsetBytes, file != null, false, ReadAdvice.NORMAL);
  }

  /** An anonymous private mapping. */
  public Vma(long startVa, long endVa, int flags, String name) {
    this(startVa, endVa, flags, name, null, 0, false, false, ReadAdvice.NORMAL);
  }

  /** A private file mapping ({@code MAP_PRIVATE} of {@code file}). */
  public static Vma privateFile(
      long startVa, long endVa, int flags, String name, MappedFile file, long fileOffsetBytes) {
    return new Vma(
        startVa, endVa, flags, name, file, fileOffsetBytes, false, false, ReadAdvice.NORMAL);
  }

  /** The part {@code [from, to)} of this VMA, which it must cover (a split). */
  public Vma slice(long from, long to) {
    return new Vma(
        from,
        to,
        flags,
        name,
        file,
        fileOffsetBytes + (from - startVa),
        shared,
        hugepageAdvised,
        readAdvice);
  }

  /** This VMA with the PTE flags {@code newFlags} (mprotect). */
  public Vma withFlags(int newFlags) {
    return new Vma(
        startVa, endVa, newFlags, name, file, fileOffsetBytes, shared, hugepageAdvised, readAdvice);
  }

  /** This VMA advised with {@code madvise(MADV_HUGEPAGE)}. */
  public Vma withHugepageAdvice() {
    return new Vma(startVa, endVa, flags, name, file, fileOffsetBytes, shared, true, readAdvice);
  }

  /**
   * This VMA advised with {@code madvise(MADV_NORMAL/MADV_SEQUENTIAL/MADV_RANDOM)}: its {@code
   * VM_SEQ_READ}/{@code VM_RAND_READ} hint replaced by {@code advice}.
   */
  public Vma withReadAdvice(ReadAdvice advice) {
    return new Vma(
        startVa, endVa, flags, name, file, fileOffsetBytes, shared, hugepageAdvised, advice);
  }

  /**
   * Whether stores copy pages instead of reaching them (Linux {@code is_cow_mapping}: private and
   * writable).
   *
   * <p>{@code // MODEL:} VMAs carry no {@code VM_MAYWRITE}; a private VMA is a COW mapping when it
   * is writable now.
   */
  public boolean cowMapping() {
    return !shared && writable();
  }

  public boolean contains(long va) {
    return Long.compareUnsigned(va, startVa) >= 0 && Long.compareUnsigned(va, endVa) < 0;
  }

  public boolean writable() {
    return (flags & PteFlags.WRITE) != 0;
  }

  /** Whether this is a shared file mapping. */
  public boolean fileBacked() {
    return file != null && shared;
  }

  /** Whether this maps a file, shared or private. */
  public boolean mapsFile() {
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
