package org.mmuemu.kernel.workload;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.result.RunResult.TlbCounts;

/**
 * An independent reference for the TLB counts of a replay: one core's TLB levels as plain true-LRU
 * sets (an access-ordered {@link LinkedHashMap} per set, keyed by virtual page number), fed with
 * the accesses of a {@link ReferenceTrace}.
 *
 * <p>It encodes the replay semantics as written for users, not as the simulator implements them:
 * every 4 KiB page an access touches is one translation, in address order; a translation looks up
 * the levels that serve its kind in order, counting one lookup per level reached; a hit fills the
 * levels above it; a miss everywhere fills every level on the path. Page faults do not exist here:
 * a miss is one miss however it is resolved. The set of a page is its VPN modulo the level's number
 * of sets.
 */
final class ReferenceTlbHierarchy {

  /** Which translations look a reference level up. */
  enum Serves {
    INSTRUCTION,
    DATA,
    UNIFIED
  }

  /** One reference level. */
  static final class Level {
    private final String name;
    private final Serves serves;
    private final int ways;
    private final List<LinkedHashMap<Long, Boolean>> sets = new ArrayList<>();
    private long lookups;
    private long misses;

    Level(String name, Serves serves, int entries, int ways) {
      this.name = name;
      this.serves = serves;
      this.ways = ways;
      for (int set = 0; set < entries / ways; set++) {
        sets.add(new LinkedHashMap<>(ways * 2, 0.75f, true));
      }
    }

    boolean serves(boolean fetch) {
      return switch (serves) {
        case UNIFIED -> true;
        case INSTRUCTION -> fetch;
        case DATA -> !fetch;
      };
    }

    private LinkedHashMap<Long, Boolean> setOf(long vpn) {
      return sets.get((int) Long.remainderUnsigned(vpn, sets.size()));
    }

    /** Counts a lookup; a hit becomes the most recently used entry of its set. */
    boolean lookup(long vpn) {
      lookups++;
      if (setOf(vpn).get(vpn) != null) {
        return true;
      }
      misses++;
      return false;
    }

    /** Inserts {@code vpn} as most recently used, evicting the least recently used when full. */
    void fill(long vpn) {
      LinkedHashMap<Long, Boolean> set = setOf(vpn);
      set.put(vpn, Boolean.TRUE);
      if (set.size() > ways) {
        Iterator<Long> eldest = set.keySet().iterator();
        eldest.next();
        eldest.remove();
      }
    }

    TlbCounts counts() {
      return new TlbCounts(lookups, lookups - misses, misses);
    }
  }

  private final List<Level> levels;

  ReferenceTlbHierarchy(List<Level> levels) {
    this.levels = List.copyOf(levels);
  }

  /** Translates every page of every access of {@code trace}, in order. */
  ReferenceTlbHierarchy replay(ReferenceTrace trace) {
    for (ReferenceTrace.Access access : trace.accesses()) {
      for (long vpn = access.firstVpn(); vpn <= access.lastVpn(); vpn++) {
        translate(vpn, access.fetch());
      }
    }
    return this;
  }

  private void translate(long vpn, boolean fetch) {
    List<Level> path = new ArrayList<>();
    for (Level level : levels) {
      if (level.serves(fetch)) {
        path.add(level);
      }
    }
    for (int i = 0; i < path.size(); i++) {
      if (path.get(i).lookup(vpn)) {
        for (int upper = 0; upper < i; upper++) {
          path.get(upper).fill(vpn);
        }
        return;
      }
    }
    for (Level level : path) {
      level.fill(vpn);
    }
  }

  /** Counts per level name, as the result's {@code tlb} section holds them. */
  Map<String, TlbCounts> counts() {
    Map<String, TlbCounts> counts = new TreeMap<>();
    for (Level level : levels) {
      counts.put(level.name, level.counts());
    }
    return counts;
  }
}
