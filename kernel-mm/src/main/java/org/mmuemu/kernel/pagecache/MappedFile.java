package org.mmuemu.kernel.pagecache;

/**
 * A file whose pages live in the {@link PageCache} and on simulated storage (Linux {@code struct
 * address_space} of an inode, reduced to its identity and size).
 *
 * @param id unique per run
 * @param sizeBytes file size, page aligned
 */
public record MappedFile(int id, String name, long sizeBytes) {
  public MappedFile {
    if (sizeBytes <= 0 || (sizeBytes & 0xFFF) != 0) {
      throw new IllegalArgumentException(
          "file " + name + ": size " + sizeBytes + " (expected: positive, page-aligned)");
    }
  }

  public long pages() {
    return sizeBytes >>> 12;
  }
}
