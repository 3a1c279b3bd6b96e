package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The checker's pending breaks stand in for a map from (table, entry) to a break, so every
 * operation is held to a {@code HashMap} on the same random sequence, including walks that remove
 * some breaks and change others.
 */
final class PendingBreaksTest {
  @Test
  void randomOperations_matchAMapKeyedByTableAndEntry() {
    SplittableRandom random = new SplittableRandom(8);
    PendingBreaks<long[]> breaks = new PendingBreaks<>();
    Map<Long, long[]> expected = new HashMap<>();
    for (int step = 0; step < 50_000; step++) {
      long tablePfn = 100 + random.nextInt(6);
      int index = random.nextInt(512);
      long key = tablePfn * 512 + index;
      int op = random.nextInt(20);
      if (op < 10) {
        long[] pending = {key, 0};
        assertThat(breaks.put(tablePfn, index, pending, key << 12, (key << 12) + 4095))
            .isSameAs(expected.put(key, pending));
      } else if (op < 19) {
        assertThat(breaks.remove(tablePfn, index)).isSameAs(expected.remove(key));
      } else {
        breaks.removeIf(pending -> ++pending[1] % 3 == 0);
        expected.values().removeIf(pending -> pending[1] % 3 == 0);
      }
      assertThat(breaks.isEmpty()).isEqualTo(expected.isEmpty());
    }
    breaks.removeIf(pending -> true);
    assertThat(breaks.isEmpty()).isTrue();
  }

  @Test
  void removeIfMayOverlap_visitsOnlyTablesWhoseAddressesMeetTheRange() {
    PendingBreaks<long[]> breaks = new PendingBreaks<>();
    long[] low = {1};
    long[] high = {2};
    breaks.put(7, 0, low, 0x10_0000, 0x10_0fff);
    breaks.put(7, 5, new long[] {3}, 0x10_5000, 0x10_5fff); // table 7 spans [0x100000, 0x105fff]
    breaks.put(9, 3, high, 0x40_3000, 0x40_3fff);
    List<long[]> visited = new ArrayList<>();

    breaks.removeIfMayOverlap(0x10_2000, 0x10_3000, pending -> visited.add(pending) && false);
    assertThat(visited).hasSize(2).contains(low).doesNotContain(high);

    visited.clear();
    breaks.removeIfMayOverlap(0x40_3fff, 0x40_4000, pending -> visited.add(pending));
    assertThat(visited).containsExactly(high);
    assertThat(breaks.remove(9, 3)).isNull();
    assertThat(breaks.remove(7, 0)).isSameAs(low);
  }

  /** A table whose breaks all went is reused for the next table, with no address bounds kept. */
  @Test
  void aReusedTable_startsWithoutTheBoundsOfItsLastUse() {
    PendingBreaks<long[]> breaks = new PendingBreaks<>();
    breaks.put(7, 1, new long[] {1}, 0x10_1000, 0x10_1fff);
    breaks.remove(7, 1); // empty: back for reuse
    breaks.put(9, 3, new long[] {2}, 0x40_3000, 0x40_3fff);
    breaks.removeIf(pending -> true); // empty through the other path
    long[] third = {3};
    breaks.put(11, 4, third, 0x80_4000, 0x80_4fff);
    List<long[]> visited = new ArrayList<>();

    breaks.removeIfMayOverlap(0x10_1000, 0x10_2000, visited::add);
    breaks.removeIfMayOverlap(0x40_3000, 0x40_4000, visited::add);

    assertThat(visited).isEmpty();
    assertThat(breaks.remove(11, 4)).isSameAs(third);
    assertThat(breaks.isEmpty()).isTrue();
  }
}
