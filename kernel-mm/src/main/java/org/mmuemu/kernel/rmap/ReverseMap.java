package org.mmuemu.kernel.rmap;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.kernel.mm.Mm;

/**
 * Which user mappings reach each page-cache frame (Linux's file rmap: the folio's mapcount and the
 * {@code i_mmap} VMAs whose PTEs map it), so {@code folio_mkclean} and reclaim can find every PTE
 * of a page.
 *
 * <p>{@code // MODEL:} one entry per mapped PTE, with the mm and address, instead of a mapcount
 * plus an interval tree of VMAs walked with {@code page_vma_mapped_walk}; the observable fact is
 * the same: a page whose rmap is empty has {@code folio_mapped() == false}, and {@code
 * folio_mkclean} returns without looking at any PTE. Anonymous pages are not in the rmap (nothing
 * here needs to find their PTEs). Confined to the simulation thread.
 */
public final class ReverseMap {
  /** One mapping of a page. */
  public record Mapping(Mm mm, long va) {}

  private final Map<Long, List<Mapping>> byPfn = new HashMap<>();

  /** Adds a mapping of {@code pfn} ({@code folio_add_file_rmap_pte}). */
  public void add(long pfn, Mm mm, long va) {
    byPfn.computeIfAbsent(pfn, key -> new ArrayList<>(2)).add(new Mapping(mm, va));
  }

  /**
   * Removes a mapping ({@code folio_remove_rmap_pte}).
   *
   * @return whether it was there
   */
  public boolean remove(long pfn, Mm mm, long va) {
    List<Mapping> mappings = byPfn.get(pfn);
    if (mappings == null) {
      return false;
    }
    boolean removed = mappings.remove(new Mapping(mm, va));
    if (mappings.isEmpty()) {
      byPfn.remove(pfn);
    }
    return removed;
  }

  /** {@code folio_mapcount}. */
  public int mapcount(long pfn) {
    List<Mapping> mappings = byPfn.get(pfn);
    return mappings == null ? 0 : mappings.size();
  }

  /** A copy of the mappings of {@code pfn}, in the order they were added. */
  public List<Mapping> mappings(long pfn) {
    List<Mapping> mappings = byPfn.get(pfn);
    return mappings == null ? List.of() : List.copyOf(mappings);
  }
}
