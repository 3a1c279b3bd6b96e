package org.mmuemu.core.collect;

import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * A hash map from {@code long} keys to non-null values, without boxing the keys or allocating an
 * entry per mapping: open addressing with linear probing in two parallel arrays, and deletion by
 * shifting the later members of a probe run back (no tombstones, so lookups stay short however many
 * removals there were). The table doubles when half full; it shrinks only when walked ({@link
 * #removeIf}), so a map that empties and refills in cycles does not rehash on every cycle.
 *
 * <p>Iteration ({@link #forEachValue}, {@link #removeIf}) is in table order, which depends on the
 * keys and the insertion history but not on anything outside the map: callers whose results depend
 * on an order must sort. Not thread-safe; a lookup allocates nothing.
 *
 * @param <V> the value type; null is not a value (it marks a free slot)
 */
public final class LongObjectMap<V> {
  private static final int MIN_CAPACITY = 16;

  private long[] keys = new long[MIN_CAPACITY];
  private Object[] values = new Object[MIN_CAPACITY];
  private int size;

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Returns the value of {@code key}, or null. */
  @SuppressWarnings("unchecked")
  public V get(long key) {
    int mask = keys.length - 1;
    for (int i = home(key, mask); values[i] != null; i = (i + 1) & mask) {
      if (keys[i] == key) {
        return (V) values[i];
      }
    }
    return null;
  }

  /** Maps {@code key} to {@code value}; returns the value it replaced, or null. */
  @SuppressWarnings("unchecked")
  public V put(long key, V value) {
    if (value == null) {
      throw new IllegalArgumentException("null value for key " + key);
    }
    int mask = keys.length - 1;
    int i = home(key, mask);
    for (; values[i] != null; i = (i + 1) & mask) {
      if (keys[i] == key) {
        V previous = (V) values[i];
        values[i] = value;
        return previous;
      }
    }
    insertAt(i, key, value);
    return null;
  }

  /**
   * Returns the value of {@code key}, first mapping it to {@code make.apply(key)} when it has none:
   * one probe either way.
   *
   * @throws IllegalArgumentException when {@code make} returns null
   */
  @SuppressWarnings("unchecked")
  public V computeIfAbsent(long key, LongFunction<? extends V> make) {
    int mask = keys.length - 1;
    int i = home(key, mask);
    for (; values[i] != null; i = (i + 1) & mask) {
      if (keys[i] == key) {
        return (V) values[i];
      }
    }
    V value = make.apply(key);
    if (value == null) {
      throw new IllegalArgumentException("null value made for key " + key);
    }
    insertAt(i, key, value);
    return value;
  }

  // Fills the free slot i that ends key's probe run, growing the table when half full.
  private void insertAt(int i, long key, Object value) {
    keys[i] = key;
    values[i] = value;
    if (++size * 2 > keys.length) {
      resize(keys.length * 2);
    }
  }

  /** Removes the mapping of {@code key}; returns its value, or null when there was none. */
  @SuppressWarnings("unchecked")
  public V remove(long key) {
    int mask = keys.length - 1;
    for (int i = home(key, mask); values[i] != null; i = (i + 1) & mask) {
      if (keys[i] == key) {
        V removed = (V) values[i];
        deleteAt(i);
        return removed;
      }
    }
    return null;
  }

  /** Passes every value to {@code action}, which must not change the map. */
  @SuppressWarnings("unchecked")
  public void forEachValue(Consumer<? super V> action) {
    for (Object value : values) {
      if (value != null) {
        action.accept((V) value);
      }
    }
  }

  /**
   * Removes every mapping whose value {@code filter} accepts, visiting each value exactly once;
   * {@code filter} may change the values it keeps, not the map. Costs O(1) on an empty map, else
   * O(size) (a table left sparse by removals is first shrunk, which costs no more than the walk).
   *
   * @return whether any mapping was removed
   */
  @SuppressWarnings("unchecked")
  public boolean removeIf(Predicate<? super V> filter) {
    if (size == 0) {
      return false;
    }
    if (keys.length > MIN_CAPACITY && size * 8 < keys.length) {
      int capacity = MIN_CAPACITY;
      while (capacity < size * 4) {
        capacity *= 2;
      }
      resize(capacity);
    }
    // Walk down from a free slot: a deletion only shifts members of the probe run above the hole
    // (up to the next free slot, at or before the start) into it, and those were visited already.
    int mask = keys.length - 1;
    int free = 0;
    while (values[free] != null) {
      free++;
    }
    boolean removed = false;
    for (int i = (free - 1) & mask; i != free; i = (i - 1) & mask) {
      if (values[i] != null && filter.test((V) values[i])) {
        deleteAt(i);
        removed = true;
      }
    }
    return removed;
  }

  private void deleteAt(int hole) {
    int mask = keys.length - 1;
    int i = hole;
    for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
      int home = home(keys[j], mask);
      // the member at j may fill the hole at i unless its home lies in (i, j] (cyclically)
      boolean homeBetween = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!homeBetween) {
        keys[i] = keys[j];
        values[i] = values[j];
        i = j;
      }
    }
    values[i] = null;
    size--;
  }

  private void resize(int capacity) {
    long[] oldKeys = keys;
    Object[] oldValues = values;
    keys = new long[capacity];
    values = new Object[capacity];
    int mask = capacity - 1;
    for (int j = 0; j < oldKeys.length; j++) {
      if (oldValues[j] != null) {
        int i = home(oldKeys[j], mask);
        while (values[i] != null) {
          i = (i + 1) & mask;
        }
        keys[i] = oldKeys[j];
        values[i] = oldValues[j];
      }
    }
  }

  // Multiply by 2^64/phi and fold the high half down: page-aligned and sequential keys, whose low
  // bits are equal or dense, spread over the whole table (keeping probe runs short, as they must be
  // with linear probing; a locality-keeping hash made runs of hundreds of slots).
  private static int home(long key, int mask) {
    long mixed = key * 0x9E3779B97F4A7C15L;
    return (int) (mixed ^ (mixed >>> 32)) & mask;
  }
}
