package org.mmuemu.kernel.vmalloc;

/**
 * The free kernel virtual address space of the vmap_area allocator (Linux {@code mm/vmalloc.c}
 * {@code free_vmap_area_root}): a binary search tree of free blocks ordered by start address, each
 * node augmented with the largest block size in its subtree ({@code subtree_max_size}), so a search
 * can skip every subtree that cannot hold a request.
 *
 * <p>Free blocks never overlap and never touch: a freed range is merged with the neighbours it
 * touches. An allocation takes the lowest-addressed block that fits the size and alignment ({@code
 * find_vmap_lowest_match}) and clips it: full fit (the node goes), left edge, right edge, or no
 * edge (the block splits in two).
 *
 * <p>{@code // MODEL:} the tree is a treap (deterministic priorities from a seeded mix of an
 * insertion counter) rather than Linux's red-black tree; both keep the depth logarithmic, and the
 * search visits nodes in the same in-order, pruned sequence, so it chooses the same block as Linux
 * for the same tree shape. With {@code adjust} (alignment above a page) Linux prunes by the padded
 * length {@code size + align - 1} while testing each visited node exactly, so a smaller block lying
 * on the search path can be chosen; the result can therefore depend on the shape, here as in Linux.
 *
 * <p>Every node visited by a search, insert or removal is counted in {@link #nodesVisited()}, which
 * the caller charges from the kernel cost table. Confined to the simulation thread.
 */
public final class FreeSpaceTree {
  /** Returned by {@link #allocate} when no block fits. */
  public static final long NO_FIT = -1L;

  private static final class Node {
    long startVa;
    long endVa;
    long subtreeMaxBytes;
    final long priority;
    Node left;
    Node right;

    Node(long startVa, long endVa, long priority) {
      this.startVa = startVa;
      this.endVa = endVa;
      this.priority = priority;
      this.subtreeMaxBytes = endVa - startVa;
    }
  }

  private Node root;
  private long nodesVisited;
  private long insertions;
  private int blockCount;
  private long freeBytes;
  // search state, kept in fields so the recursive search allocates nothing
  private long searchSize;
  private long searchAlign;
  private long searchVstart;
  private long searchLength;

  /** Creates a tree holding the one free block {@code [startVa, endVa)}. */
  public FreeSpaceTree(long startVa, long endVa) {
    if (Long.compareUnsigned(startVa, endVa) >= 0) {
      throw new IllegalArgumentException(
          "free space [0x"
              + Long.toHexString(startVa)
              + ", 0x"
              + Long.toHexString(endVa)
              + ") (expected: start below end)");
    }
    insertFree(startVa, endVa);
    nodesVisited = 0;
  }

  /** Nodes visited since creation (searches, inserts, removals). */
  public long nodesVisited() {
    return nodesVisited;
  }

  /** Number of free blocks. */
  public int blockCount() {
    return blockCount;
  }

  /** Total free bytes. */
  public long freeBytes() {
    return freeBytes;
  }

  /** The largest free block, in bytes. */
  public long largestBlockBytes() {
    return max(root);
  }

  /**
   * Allocates {@code sizeBytes} at the lowest address that fits (Linux {@code __alloc_vmap_area}).
   *
   * @param sizeBytes a positive multiple of the page size
   * @param alignBytes a power of two, read unsigned (up to 2^63)
   * @param vstart lowest acceptable start
   * @param vend end of the acceptable range (exclusive)
   * @param pageBytes the page size (alignments up to it need no padding)
   * @return the start of the area, or {@link #NO_FIT}
   */
  public long allocate(long sizeBytes, long alignBytes, long vstart, long vend, long pageBytes) {
    if (sizeBytes <= 0 || Long.bitCount(alignBytes) != 1) {
      throw new IllegalArgumentException(
          "sizeBytes: "
              + sizeBytes
              + ", alignBytes: "
              + alignBytes
              + " (expected: positive size, power-of-two alignment)");
    }
    boolean adjust =
        Long.compareUnsigned(alignBytes, pageBytes) > 0 && (vend - vstart) != sizeBytes;
    searchSize = sizeBytes;
    searchAlign = alignBytes;
    searchVstart = vstart;
    searchLength = adjust ? sizeBytes + alignBytes - 1 : sizeBytes;
    if (Long.compareUnsigned(searchLength, sizeBytes) < 0) {
      return NO_FIT;
    }
    Node found = lowestMatch(root);
    if (found == null) {
      return NO_FIT;
    }
    long nva = alignUp(unsignedMax(found.startVa, vstart), alignBytes);
    if (Long.compareUnsigned(nva + sizeBytes, vend) > 0) {
      return NO_FIT; // Linux: -ERANGE
    }
    clip(found, nva, sizeBytes);
    return nva;
  }

  // Linux find_vmap_lowest_match, written as the recursive in-order walk its iterative descent
  // and parent climb perform: left first when a fit may lie lower, then the node, then right.
  private Node lowestMatch(Node node) {
    if (node == null || Long.compareUnsigned(node.subtreeMaxBytes, searchLength) < 0) {
      return null;
    }
    nodesVisited++;
    if (node.left != null
        && Long.compareUnsigned(node.left.subtreeMaxBytes, searchLength) >= 0
        && Long.compareUnsigned(searchVstart, node.startVa) < 0) {
      Node found = lowestMatch(node.left);
      if (found != null) {
        return found;
      }
    }
    if (fits(node)) {
      return node;
    }
    if (node.right != null && Long.compareUnsigned(node.right.subtreeMaxBytes, searchLength) >= 0) {
      return lowestMatch(node.right);
    }
    return null;
  }

  private boolean fits(Node node) {
    long base = unsignedMax(node.startVa, searchVstart);
    long nva = alignUp(base, searchAlign);
    long end = nva + searchSize;
    if (Long.compareUnsigned(nva, base) < 0 || Long.compareUnsigned(end, nva) <= 0) {
      return false; // the aligned start or the end wrapped around
    }
    return Long.compareUnsigned(end, node.endVa) <= 0;
  }

  private static long unsignedMax(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }

  private static long alignUp(long va, long align) {
    return (va + align - 1) & -align;
  }

  private void clip(Node node, long nva, long sizeBytes) {
    long end = nva + sizeBytes;
    freeBytes -= sizeBytes;
    if (nva == node.startVa && end == node.endVa) {
      root = remove(root, node.startVa); // FL
      blockCount--;
    } else if (nva == node.startVa) {
      node.startVa = end; // LE: the key grows but stays below the next block
      refresh(root, node.startVa);
    } else if (end == node.endVa) {
      node.endVa = nva; // RE
      refresh(root, node.startVa);
    } else {
      long oldStart = node.startVa; // NE: keep the upper part in the node, insert the lower part
      node.startVa = end;
      refresh(root, node.startVa);
      root = insert(root, new Node(oldStart, nva, nextPriority()));
      blockCount++;
    }
  }

  /**
   * Returns {@code [startVa, endVa)} to the free space, merging it with the free blocks it touches
   * (Linux {@code merge_or_add_vmap_area}: the next neighbour is unlinked first, then the previous
   * one is extended).
   *
   * @throws IllegalStateException when the range overlaps free space (a double free)
   */
  public void insertFree(long startVa, long endVa) {
    Node previous = floor(startVa);
    Node next = ceiling(startVa);
    if (previous != null && Long.compareUnsigned(previous.endVa, startVa) > 0
        || next != null && Long.compareUnsigned(next.startVa, endVa) < 0) {
      throw new IllegalStateException(
          "free of [0x"
              + Long.toHexString(startVa)
              + ", 0x"
              + Long.toHexString(endVa)
              + ") overlaps free space");
    }
    freeBytes += endVa - startVa;
    boolean mergePrevious = previous != null && previous.endVa == startVa;
    boolean mergeNext = next != null && next.startVa == endVa;
    if (mergeNext) {
      root = remove(root, next.startVa);
      blockCount--;
      endVa = next.endVa;
    }
    if (mergePrevious) {
      previous.endVa = endVa;
      refresh(root, previous.startVa);
      return;
    }
    root = insert(root, new Node(startVa, endVa, nextPriority()));
    blockCount++;
  }

  /**
   * Writes the free blocks in address order as {@code start, end} pairs (for tests and counters).
   */
  public long[] blocks() {
    long[] out = new long[blockCount * 2];
    int[] position = new int[1];
    collect(root, out, position);
    return out;
  }

  private static void collect(Node node, long[] out, int[] position) {
    if (node == null) {
      return;
    }
    collect(node.left, out, position);
    out[position[0]++] = node.startVa;
    out[position[0]++] = node.endVa;
    collect(node.right, out, position);
  }

  /**
   * Checks the augmentation and ordering invariants.
   *
   * @throws IllegalStateException naming the first broken invariant
   */
  public void checkInvariants() {
    check(root, 0L, -1L);
  }

  private long check(Node node, long low, long high) {
    if (node == null) {
      return 0;
    }
    if (Long.compareUnsigned(node.startVa, low) < 0
        || Long.compareUnsigned(node.endVa, high) > 0
        || Long.compareUnsigned(node.startVa, node.endVa) >= 0) {
      throw new IllegalStateException("order broken at 0x" + Long.toHexString(node.startVa));
    }
    long expected =
        Math.max(
            node.endVa - node.startVa,
            Math.max(check(node.left, low, node.startVa), check(node.right, node.endVa, high)));
    if (expected != node.subtreeMaxBytes) {
      throw new IllegalStateException(
          "subtree max at 0x"
              + Long.toHexString(node.startVa)
              + " is "
              + node.subtreeMaxBytes
              + ", expected "
              + expected);
    }
    return expected;
  }

  private long nextPriority() {
    long z = 0x5DEECE66DL + 0x9E3779B97F4A7C15L * ++insertions;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static long max(Node node) {
    return node == null ? 0 : node.subtreeMaxBytes;
  }

  private static void update(Node node) {
    node.subtreeMaxBytes =
        Math.max(node.endVa - node.startVa, Math.max(max(node.left), max(node.right)));
  }

  private Node floor(long va) {
    Node node = root;
    Node best = null;
    while (node != null) {
      nodesVisited++;
      if (Long.compareUnsigned(node.startVa, va) <= 0) {
        best = node;
        node = node.right;
      } else {
        node = node.left;
      }
    }
    return best;
  }

  private Node ceiling(long va) {
    Node node = root;
    Node best = null;
    while (node != null) {
      nodesVisited++;
      if (Long.compareUnsigned(node.startVa, va) > 0) {
        best = node;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return best;
  }

  // Recomputes the augmentation on the path to the node whose start is va (the augment
  // callback's propagate step).
  private void refresh(Node node, long va) {
    if (node == null) {
      return;
    }
    nodesVisited++;
    int order = Long.compareUnsigned(va, node.startVa);
    if (order < 0) {
      refresh(node.left, va);
    } else if (order > 0) {
      refresh(node.right, va);
    }
    update(node);
  }

  private Node insert(Node node, Node added) {
    if (node == null) {
      return added;
    }
    nodesVisited++;
    if (Long.compareUnsigned(added.startVa, node.startVa) < 0) {
      node.left = insert(node.left, added);
      if (node.left.priority > node.priority) {
        node = rotateRight(node);
      }
    } else {
      node.right = insert(node.right, added);
      if (node.right.priority > node.priority) {
        node = rotateLeft(node);
      }
    }
    update(node);
    return node;
  }

  private Node remove(Node node, long startVa) {
    if (node == null) {
      throw new IllegalStateException("no free block at 0x" + Long.toHexString(startVa));
    }
    nodesVisited++;
    int order = Long.compareUnsigned(startVa, node.startVa);
    if (order < 0) {
      node.left = remove(node.left, startVa);
    } else if (order > 0) {
      node.right = remove(node.right, startVa);
    } else {
      return join(node.left, node.right);
    }
    update(node);
    return node;
  }

  private Node join(Node left, Node right) {
    if (left == null) {
      return right;
    }
    if (right == null) {
      return left;
    }
    nodesVisited++;
    if (left.priority > right.priority) {
      left.right = join(left.right, right);
      update(left);
      return left;
    }
    right.left = join(left, right.left);
    update(right);
    return right;
  }

  private static Node rotateRight(Node node) {
    Node pivot = node.left;
    node.left = pivot.right;
    pivot.right = node;
    update(node);
    update(pivot);
    return pivot;
  }

  private static Node rotateLeft(Node node) {
    Node pivot = node.right;
    node.right = pivot.left;
    pivot.left = node;
    update(node);
    update(pivot);
    return pivot;
  }
}
