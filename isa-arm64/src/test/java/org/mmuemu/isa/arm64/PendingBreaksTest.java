package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
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
        assertThat(breaks.put(tablePfn, index, pending)).isSameAs(expected.put(key, pending));
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
}
