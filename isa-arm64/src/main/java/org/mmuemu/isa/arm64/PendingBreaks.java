package org.mmuemu.isa.arm64;

import java.util.function.Predicate;
import org.mmuemu.core.collect.LongObjectMap;

/**
 * The breaks in progress of {@link Arm64BreakBeforeMakeChecker}, by table frame and entry index:
 * per table frame an array with a slot per entry, found through a map and dropped when its last
 * break goes. An unmap clears the entries of a table in order, so neighbouring breaks share a slot
 * array and its cache lines; a vmalloc workload keeps tens of thousands of them until its purge.
 * Confined to the simulation thread.
 *
 * @param <B> what is kept per broken entry
 */
final class PendingBreaks<B> {
  private static final int ENTRIES_PER_TABLE = 512;

  private static final class TableBreaks {
    final Object[] entries = new Object[ENTRIES_PER_TABLE];
    int live;
  }

  private final LongObjectMap<TableBreaks> tables = new LongObjectMap<>();

  boolean isEmpty() {
    return tables.isEmpty();
  }

  /**
   * Records the break at entry {@code index} of table frame {@code tablePfn}; returns the one it
   * replaced, or null.
   */
  @SuppressWarnings("unchecked")
  B put(long tablePfn, int index, B pending) {
    TableBreaks table = tables.get(tablePfn);
    if (table == null) {
      table = new TableBreaks();
      tables.put(tablePfn, table);
    }
    B replaced = (B) table.entries[index];
    if (replaced == null) {
      table.live++;
    }
    table.entries[index] = pending;
    return replaced;
  }

  /** Removes and returns the break at entry {@code index} of {@code tablePfn}, or null. */
  @SuppressWarnings("unchecked")
  B remove(long tablePfn, int index) {
    TableBreaks table = tables.get(tablePfn);
    if (table == null || table.entries[index] == null) {
      return null;
    }
    B removed = (B) table.entries[index];
    table.entries[index] = null;
    if (--table.live == 0) {
      tables.remove(tablePfn);
    }
    return removed;
  }

  /**
   * Removes every break {@code filter} accepts, visiting each once; {@code filter} may change the
   * breaks it keeps.
   */
  @SuppressWarnings("unchecked")
  void removeIf(Predicate<? super B> filter) {
    tables.removeIf(
        table -> {
          for (int index = 0; index < ENTRIES_PER_TABLE && table.live > 0; index++) {
            Object pending = table.entries[index];
            if (pending != null && filter.test((B) pending)) {
              table.entries[index] = null;
              table.live--;
            }
          }
          return table.live == 0;
        });
  }
}
