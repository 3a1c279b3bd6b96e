package org.mmuemu.kernel.vmalloc;

import java.util.ArrayDeque;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.lock.SimLock;

/**
 * One vmap node's size-segregated pools of purged ranges (Linux 6.9+ {@code vmap_node.pool}): list
 * {@code i} holds free ranges of exactly {@code i + 1} pages, up to {@code MAX_VA_SIZE_PAGES}
 * (256). An allocation of the full vmalloc range by a CPU of this node takes the first range of its
 * size when that range is suitably aligned (otherwise the range is rotated to the tail), skipping
 * the free tree. Confined to the simulation thread.
 */
final class VmapNodePool {
  /** Largest pooled range, in pages. */
  static final int MAX_VA_SIZE_PAGES = 256;

  private final SimLock lock = new SimLock("vmap_node.pool_lock");

  @SuppressWarnings("unchecked")
  private final ArrayDeque<long[]>[] lists = new ArrayDeque[MAX_VA_SIZE_PAGES];

  private long size;

  /** Receives a range a decay hands back. */
  @FunctionalInterface
  interface RangeSink {
    void range(int core, long startVa, long endVa);
  }

  /** Ranges pooled now. */
  long size() {
    return size;
  }

  /**
   * Takes a range of exactly {@code sizeBytes} aligned to {@code alignBytes} (Linux {@code
   * node_pool_del_va}).
   *
   * @return its start, or 0
   */
  long take(Machine machine, int core, long lockCycles, long sizeBytes, long alignBytes) {
    long pages = sizeBytes / Vmalloc.PAGE_BYTES;
    if (pages < 1
        || pages > MAX_VA_SIZE_PAGES
        || lists[(int) pages - 1] == null
        || lists[(int) pages - 1].isEmpty()) {
      return 0;
    }
    ArrayDeque<long[]> list = lists[(int) pages - 1];
    lock.acquire(machine, core, lockCycles);
    long[] range = list.pollFirst();
    long va = 0;
    if ((range[0] & (alignBytes - 1)) == 0) {
      va = range[0];
      size--;
    } else {
      list.addLast(range);
    }
    lock.release(machine, core);
    return va;
  }

  /**
   * Pools a purged range when it is small enough (Linux {@code node_pool_add_va}).
   *
   * @return whether it was pooled
   */
  boolean offer(Machine machine, int core, long lockCycles, long startVa, long endVa) {
    long pages = (endVa - startVa) / Vmalloc.PAGE_BYTES;
    if (pages < 1 || pages > MAX_VA_SIZE_PAGES) {
      return false;
    }
    lock.acquire(machine, core, lockCycles);
    ArrayDeque<long[]> list = lists[(int) pages - 1];
    if (list == null) {
      list = new ArrayDeque<>();
      lists[(int) pages - 1] = list;
    }
    list.addLast(new long[] {startVa, endVa});
    size++;
    lock.release(machine, core);
    return true;
  }

  /**
   * {@code decay_va_pool_node}: a quarter of each list (all of it when {@code full}), from its
   * head, goes back to the free tree.
   */
  void decay(Machine machine, int core, long lockCycles, boolean full, RangeSink freeTree) {
    if (size == 0) {
      return;
    }
    for (ArrayDeque<long[]> list : lists) {
      if (list == null || list.isEmpty()) {
        continue;
      }
      lock.acquire(machine, core, lockCycles);
      int decay = full ? list.size() : list.size() >> 2;
      long[][] taken = new long[decay][];
      for (int i = 0; i < decay; i++) {
        taken[i] = list.pollFirst();
      }
      size -= decay;
      lock.release(machine, core);
      for (long[] range : taken) {
        freeTree.range(core, range[0], range[1]);
      }
    }
  }

  /** Calls {@code sink} with every pooled range (for consistency checks). */
  void forEachRange(java.util.function.BiConsumer<Long, Long> sink) {
    for (ArrayDeque<long[]> list : lists) {
      if (list != null) {
        for (long[] range : list) {
          sink.accept(range[0], range[1]);
        }
      }
    }
  }
}
