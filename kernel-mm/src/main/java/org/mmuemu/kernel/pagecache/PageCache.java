package org.mmuemu.kernel.pagecache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;

/**
 * The page cache: file pages in frames, found by (file, index) and by frame. A missing page is read
 * from storage on fault ({@link #readPage}), so the frame's content version at that moment is what
 * storage holds.
 *
 * <p>Confined to the simulation thread.
 */
public final class PageCache {
  private final Machine machine;
  private final Map<Integer, TreeMap<Long, CachedPage>> byFile = new HashMap<>();
  private final org.mmuemu.core.collect.LongObjectMap<CachedPage> byPfn =
      new org.mmuemu.core.collect.LongObjectMap<>();
  private int nextFileId = 1;

  public PageCache(Machine machine) {
    this.machine = machine;
  }

  /** Creates a file of {@code sizeBytes} on storage; no page is cached yet. */
  public MappedFile createFile(String name, long sizeBytes) {
    return new MappedFile(nextFileId++, name, sizeBytes);
  }

  /** The cached page, or null ({@code filemap_get_folio}). */
  public CachedPage lookup(MappedFile file, long index) {
    TreeMap<Long, CachedPage> pages = byFile.get(file.id());
    return pages == null ? null : pages.get(index);
  }

  /** The cached page in frame {@code pfn}, or null when the frame holds no file page. */
  public CachedPage byPfn(long pfn) {
    return byPfn.get(pfn);
  }

  /**
   * Allocates a frame for page {@code index} of {@code file}, fills it from storage and inserts it
   * (the caller pays the read).
   */
  public CachedPage readPage(MappedFile file, long index) {
    long pfn = machine.memory().allocate(FrameKind.DATA);
    CachedPage page = new CachedPage(file, index, pfn, machine.memory().contentVersion(pfn));
    byFile.computeIfAbsent(file.id(), key -> new TreeMap<>()).put(index, page);
    byPfn.put(pfn, page);
    return page;
  }

  /** Removes {@code page} from the cache (the caller frees its frame). */
  public void remove(CachedPage page) {
    TreeMap<Long, CachedPage> pages = byFile.get(page.file().id());
    if (pages != null) {
      pages.remove(page.index());
    }
    byPfn.remove(page.pfn());
  }

  /** Every cached page, by file id then index (a deterministic order). */
  public List<CachedPage> pages() {
    List<CachedPage> all = new ArrayList<>();
    new TreeMap<>(byFile).values().forEach(pages -> all.addAll(pages.values()));
    return all;
  }

  public int size() {
    return byPfn.size();
  }
}
