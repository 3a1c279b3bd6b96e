package org.mmuemu.kernel.vmalloc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.mmuemu.core.collect.LongObjectMap;

/**
 * The busy trees of the vmap_area allocator: the live areas keyed by start address, one tree per
 * vmap node (one in all without vmap nodes), an area living in the node of its start address
 * ({@link #nodeOf}). The model charges a tree visit as {@code ceil(log2(n + 1))} nodes ({@link
 * VmapAreaAllocator}); on the host each tree is a hash map, so inserting and unlinking by start
 * address cost O(1). Confined to the simulation thread.
 */
final class BusyAreas {
  /** Linux {@code vmap_zone_size}: 16 pages of address space per node stripe. */
  static final long VMAP_ZONE_BYTES = 16 * Vmalloc.PAGE_BYTES;

  private final List<LongObjectMap<VmapArea>> trees = new ArrayList<>();

  /** The largest area ever inserted, which bounds the search for the area containing an address. */
  private long maxAreaBytes;

  /** Whether some area ever started off a page boundary (then that search scans). */
  private boolean unalignedStartSeen;

  BusyAreas(int nodes) {
    for (int node = 0; node < nodes; node++) {
      trees.add(new LongObjectMap<>());
    }
  }

  int nodeCount() {
    return trees.size();
  }

  /**
   * Linux {@code addr_to_node_id}: the vmap node whose busy tree holds an area starting at {@code
   * va} (64 KiB zones, {@link #VMAP_ZONE_BYTES}, striped over the nodes); 0 with one tree.
   */
  int nodeOf(long va) {
    return (int) Long.remainderUnsigned(va / VMAP_ZONE_BYTES, trees.size());
  }

  /** Areas in the busy tree of {@code node}. */
  int size(int node) {
    return trees.get(node).size();
  }

  long totalSize() {
    long total = 0;
    for (LongObjectMap<VmapArea> tree : trees) {
      total += tree.size();
    }
    return total;
  }

  /** Inserts {@code area} into the tree of its node (replacing an area with the same start). */
  void insert(VmapArea area) {
    trees.get(nodeOf(area.vaStart())).put(area.vaStart(), area);
    maxAreaBytes = Math.max(maxAreaBytes, area.sizeBytes());
    unalignedStartSeen |= (area.vaStart() & (Vmalloc.PAGE_BYTES - 1)) != 0;
  }

  /** Unlinks the area starting at {@code va} from the tree of {@code node}; null when none. */
  VmapArea remove(int node, long va) {
    return trees.get(node).remove(va);
  }

  /** The node whose tree holds {@code area}, or -1. */
  int treeOf(VmapArea area) {
    for (int node = 0; node < trees.size(); node++) {
      if (trees.get(node).get(area.vaStart()) == area) {
        return node;
      }
    }
    return -1;
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
    if (unalignedStartSeen || pages > totalSize()) {
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
    return trees.get(nodeOf(va)).get(va);
  }

  private VmapArea scanFor(long va) {
    VmapArea[] found = new VmapArea[1];
    for (LongObjectMap<VmapArea> tree : trees) {
      tree.forEachValue(
          area -> {
            if (Long.compareUnsigned(area.vaStart(), va) <= 0
                && Long.compareUnsigned(va, area.vaEnd()) < 0) {
              found[0] = area;
            }
          });
    }
    return found[0];
  }

  /** Every live area: node by node, each node's in address order. */
  List<VmapArea> all() {
    List<VmapArea> areas = new ArrayList<>();
    for (LongObjectMap<VmapArea> tree : trees) {
      List<VmapArea> nodeAreas = new ArrayList<>(tree.size());
      tree.forEachValue(nodeAreas::add);
      nodeAreas.sort(Comparator.comparingLong(VmapArea::vaStart));
      areas.addAll(nodeAreas);
    }
    return areas;
  }
}
