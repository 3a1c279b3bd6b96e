package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.mmuemu.core.collect.LongObjectMap;

/**
 * The busy trees of the vmap_area allocator: the live areas keyed by start address, one tree per
 * vmap node (one in all without vmap nodes), an area living in the tree of the node of its start
 * address ({@link #nodeOf}). The model charges a tree visit as {@code ceil(log2(n + 1))} nodes of
 * that node's tree ({@link VmapAreaAllocator}), so only each tree's size is kept per node.
 *
 * <p>On the host the areas are indexed by start page: 2 MiB chunks of address space, each an array
 * with a slot per page, found through a hash map and dropped when its last area goes. A
 * page-aligned start names its page's slot; areas that start off a page boundary (only tests make
 * them) are kept in a map by address. The allocator hands out neighbouring addresses, so
 * neighbouring operations share a chunk and its cache lines, where a map keyed by address would
 * miss the cache on each. Confined to the simulation thread.
 */
final class BusyAreas {
  /** Linux {@code vmap_zone_size}: 16 pages of address space per node stripe. */
  static final long VMAP_ZONE_BYTES = 16 * Vmalloc.PAGE_BYTES;

  private static final int PAGE_SHIFT = 12;
  private static final int PAGES_PER_CHUNK = 512;

  private final int[] areasPerNode;

  /** The areas starting in one 2 MiB chunk of address space, one slot per page. */
  private static final class Chunk {
    final VmapArea[] areas = new VmapArea[PAGES_PER_CHUNK];
    int live;
  }

  /** Start page >>> 9 -> its chunk, while it holds an area. */
  private final LongObjectMap<Chunk> chunks = new LongObjectMap<>();

  /** Areas starting off a page boundary, by start address. */
  private final LongObjectMap<VmapArea> unaligned = new LongObjectMap<>();

  /** The largest area ever inserted, which bounds the search for the area containing an address. */
  private long maxAreaBytes;

  BusyAreas(int nodes) {
    this.areasPerNode = new int[nodes];
  }

  int nodeCount() {
    return areasPerNode.length;
  }

  /**
   * Linux {@code addr_to_node_id}: the vmap node whose busy tree holds an area starting at {@code
   * va} (64 KiB zones, {@link #VMAP_ZONE_BYTES}, striped over the nodes); 0 with one tree.
   */
  int nodeOf(long va) {
    return (int) Long.remainderUnsigned(va / VMAP_ZONE_BYTES, areasPerNode.length);
  }

  /** Areas in the busy tree of {@code node}. */
  int size(int node) {
    return areasPerNode[node];
  }

  long totalSize() {
    long total = 0;
    for (int count : areasPerNode) {
      total += count;
    }
    return total;
  }

  /** Inserts {@code area} into the tree of its node (replacing an area with the same start). */
  void insert(VmapArea area) {
    long va = area.vaStart();
    VmapArea replaced;
    if (isPageAligned(va)) {
      Chunk chunk = chunks.computeIfAbsent(chunkOf(va), key -> new Chunk());
      replaced = chunk.areas[slotOf(va)];
      chunk.areas[slotOf(va)] = area;
      if (replaced == null) {
        chunk.live++;
      }
    } else {
      replaced = unaligned.put(va, area);
    }
    if (replaced == null) {
      areasPerNode[nodeOf(va)]++;
    }
    maxAreaBytes = Math.max(maxAreaBytes, area.sizeBytes());
  }

  /** Unlinks the area starting at {@code va} from the tree of {@code node}; null when none. */
  VmapArea remove(int node, long va) {
    if (node != nodeOf(va)) {
      return null; // an area lives in its start's node only
    }
    VmapArea removed;
    if (isPageAligned(va)) {
      Chunk chunk = chunks.get(chunkOf(va));
      removed = chunk == null ? null : chunk.areas[slotOf(va)];
      if (removed != null) {
        chunk.areas[slotOf(va)] = null;
        if (--chunk.live == 0) {
          chunks.remove(chunkOf(va));
        }
      }
    } else {
      removed = unaligned.remove(va);
    }
    if (removed != null) {
      areasPerNode[node]--;
    }
    return removed;
  }

  /** The node whose tree holds {@code area}, or -1. */
  int treeOf(VmapArea area) {
    return startingAt(area.vaStart()) == area ? nodeOf(area.vaStart()) : -1;
  }

  /**
   * The live area containing {@code va}, or null: the area starting at {@code va}, else the nearest
   * start below it, looked up page by page as far as the largest area reaches (or by a scan, when
   * that is fewer steps or an area started off a page boundary).
   */
  VmapArea containing(long va) {
    VmapArea startingHere = startingAt(va);
    if (startingHere != null) {
      return startingHere;
    }
    long pages = (maxAreaBytes + Vmalloc.PAGE_BYTES - 1) / Vmalloc.PAGE_BYTES;
    if (!unaligned.isEmpty() || pages > totalSize()) {
      return scanFor(va);
    }
    long candidate = va & -Vmalloc.PAGE_BYTES;
    for (long step = 0; step < pages; step++, candidate -= Vmalloc.PAGE_BYTES) {
      VmapArea area = startingAt(candidate);
      if (area != null) {
        return Long.compareUnsigned(va, area.vaEnd()) < 0 ? area : null;
      }
    }
    return null;
  }

  private VmapArea startingAt(long va) {
    if (!isPageAligned(va)) {
      return unaligned.get(va);
    }
    Chunk chunk = chunks.get(chunkOf(va));
    return chunk == null ? null : chunk.areas[slotOf(va)];
  }

  private VmapArea scanFor(long va) {
    for (VmapArea area : all()) {
      if (Long.compareUnsigned(area.vaStart(), va) <= 0
          && Long.compareUnsigned(va, area.vaEnd()) < 0) {
        return area;
      }
    }
    return null;
  }

  /** Every live area: node by node, each node's in address order. */
  List<VmapArea> all() {
    List<VmapArea> areas = new ArrayList<>();
    chunks.forEachValue(
        chunk -> {
          for (VmapArea area : chunk.areas) {
            if (area != null) {
              areas.add(area);
            }
          }
        });
    unaligned.forEachValue(areas::add);
    areas.sort(
        Comparator.comparingInt((VmapArea area) -> nodeOf(area.vaStart()))
            .thenComparingLong(VmapArea::vaStart));
    return areas;
  }

  private static boolean isPageAligned(long va) {
    return (va & (Vmalloc.PAGE_BYTES - 1)) == 0;
  }

  private static long chunkOf(long va) {
    return (va >>> PAGE_SHIFT) / PAGES_PER_CHUNK;
  }

  private static int slotOf(long va) {
    return (int) (va >>> PAGE_SHIFT) & (PAGES_PER_CHUNK - 1);
  }
}
