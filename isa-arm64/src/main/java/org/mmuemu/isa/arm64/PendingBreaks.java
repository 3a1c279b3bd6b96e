package org.mmuemu.isa.arm64;

import java.util.function.LongFunction;
import java.util.function.Predicate;
import org.mmuemu.core.collect.LongObjectMap;

/**
 * The breaks in progress of {@link Arm64BreakBeforeMakeChecker}, by table frame and entry index:
 * per table frame an array with a slot per entry, found through a map and dropped when its last
 * break goes. An unmap clears the entries of a table in order, so neighbouring breaks share a slot
 * array and its cache lines; a vmalloc workload keeps tens of thousands of them until its purge.
 * Each table also keeps bounds on the addresses its breaks translate, so a by-VA TLBI visits only
 * the tables it may cover. Confined to the simulation thread.
 *
 * @param <B> what is kept per broken entry
 */
final class PendingBreaks<B> {
  private static final int ENTRIES_PER_TABLE = 512;
  private static final int MAX_SPARE_TABLES = 1024;

  private static final class TableBreaks {
    final Object[] entries = new Object[ENTRIES_PER_TABLE];
    int live;

    /** The lowest first and highest last byte any break put here translated (never narrowed). */
    long vaFirst = -1L;

    long vaLast;
  }

  private final LongObjectMap<TableBreaks> tables = new LongObjectMap<>();
  // Tables whose breaks all went, for reuse: a table's breaks come and go with every unmap and its
  // flush, and a fresh slot array per table each time was a sizeable share of a teardown's cost.
  private final java.util.ArrayDeque<TableBreaks> spare = new java.util.ArrayDeque<>();
  // The table the last put went to (an unmap clears a table's entries one after another), or null.
  private long lastTablePfn;
  private TableBreaks lastTable;
  private final LongFunction<TableBreaks> newTable =
      tablePfn -> spare.isEmpty() ? new TableBreaks() : spare.pop();

  boolean isEmpty() {
    return tables.isEmpty();
  }

  /**
   * Records the break at entry {@code index} of table frame {@code tablePfn}, whose old entry
   * translated {@code [vaFirst, vaLast]}; returns the one it replaced, or null.
   */
  @SuppressWarnings("unchecked")
  B put(long tablePfn, int index, B pending, long vaFirst, long vaLast) {
    TableBreaks table = lastTable != null && lastTablePfn == tablePfn ? lastTable : null;
    if (table == null) {
      table = tables.computeIfAbsent(tablePfn, newTable);
      lastTablePfn = tablePfn;
      lastTable = table;
    }
    if (Long.compareUnsigned(vaFirst, table.vaFirst) < 0) {
      table.vaFirst = vaFirst;
    }
    if (Long.compareUnsigned(vaLast, table.vaLast) > 0) {
      table.vaLast = vaLast;
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
      recycle(table);
    }
    return removed;
  }

  /**
   * Removes every break {@code filter} accepts, visiting each once; {@code filter} may change the
   * breaks it keeps.
   */
  void removeIf(Predicate<? super B> filter) {
    tables.removeIf(table -> removeIf(table, filter));
  }

  /**
   * Like {@link #removeIf(Predicate)}, but visits only the breaks of tables whose addresses may
   * overlap {@code [vaStart, vaEnd)} (unsigned): the others stay as they are, unvisited.
   */
  void removeIfMayOverlap(long vaStart, long vaEnd, Predicate<? super B> filter) {
    tables.removeIf(
        table ->
            Long.compareUnsigned(table.vaFirst, vaEnd) < 0
                && Long.compareUnsigned(vaStart, table.vaLast) <= 0
                && removeIf(table, filter));
  }

  // Removes the table's breaks that filter accepts; returns whether the table is left empty (and
  // then recycles it).
  @SuppressWarnings("unchecked")
  private boolean removeIf(TableBreaks table, Predicate<? super B> filter) {
    for (int index = 0; index < ENTRIES_PER_TABLE && table.live > 0; index++) {
      Object pending = table.entries[index];
      if (pending != null && filter.test((B) pending)) {
        table.entries[index] = null;
        table.live--;
      }
    }
    if (table.live == 0) {
      recycle(table);
      return true;
    }
    return false;
  }

  // An empty table (every slot null) goes back for reuse, with its address bounds reset.
  private void recycle(TableBreaks table) {
    if (table == lastTable) {
      lastTable = null;
    }
    table.vaFirst = -1L;
    table.vaLast = 0;
    if (spare.size() < MAX_SPARE_TABLES) {
      spare.push(table);
    }
  }
}
