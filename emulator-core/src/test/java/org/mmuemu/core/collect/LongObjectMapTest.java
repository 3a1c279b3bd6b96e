package org.mmuemu.core.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The map stands in for {@code HashMap<Long, V>} on the model's hot paths, so every operation is
 * held to what a {@code HashMap} does on the same sequence, with keys that collide in the low bits
 * (page-aligned addresses) and removals in the middle of probe runs.
 */
final class LongObjectMapTest {
  @Test
  void randomOperations_matchAHashMap() {
    SplittableRandom random = new SplittableRandom(12);
    LongObjectMap<String> map = new LongObjectMap<>();
    Map<Long, String> expected = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      long key = 0xffff_8000_0000_0000L + (random.nextInt(3_000) << 12);
      int op = random.nextInt(10);
      if (op < 5) {
        String value = "v" + step;
        assertThat(map.put(key, value)).isEqualTo(expected.put(key, value));
      } else if (op < 7) {
        assertThat(map.remove(key)).isEqualTo(expected.remove(key));
      } else if (op < 8) {
        String made = "made" + step;
        assertThat(map.computeIfAbsent(key, k -> made))
            .isEqualTo(expected.computeIfAbsent(key, k -> made));
      } else {
        assertThat(map.get(key)).isEqualTo(expected.get(key));
      }
      assertThat(map.size()).isEqualTo(expected.size());
    }
    assertThat(valuesOf(map)).containsExactlyInAnyOrderElementsOf(expected.values());
  }

  @Test
  void removeIf_visitsEachValueOnceAndKeepsTheRestReachable() {
    SplittableRandom random = new SplittableRandom(5);
    for (int round = 0; round < 200; round++) {
      LongObjectMap<long[]> map = new LongObjectMap<>();
      Map<Long, long[]> expected = new HashMap<>();
      int count = 1 + random.nextInt(400);
      for (int i = 0; i < count; i++) {
        long key = random.nextLong(1_000) * 512; // dense runs of equal low bits
        long[] value = {key, 0};
        map.put(key, value);
        expected.put(key, value);
      }
      boolean removed = map.removeIf(value -> ++value[1] > 1 || (value[0] / 512) % 3 == 0);
      expected.values().forEach(value -> assertThat(value[1]).isEqualTo(1)); // visited once
      boolean anyRemoved = expected.keySet().removeIf(key -> (key / 512) % 3 == 0);
      assertThat(removed).isEqualTo(anyRemoved);
      assertThat(map.size()).isEqualTo(expected.size());
      for (long key = 0; key < 1_000 * 512; key += 512) {
        assertThat(map.get(key)).isSameAs(expected.get(key));
      }
    }
  }

  @Test
  void removeIf_afterABurstOfRemovals_keepsEveryMappingLeft() {
    LongObjectMap<Long> map = new LongObjectMap<>();
    for (long key = 0; key < 10_000; key++) {
      map.put(key << 12, key);
    }
    for (long key = 0; key < 9_990; key++) {
      assertThat(map.remove(key << 12)).isEqualTo(key);
    }
    map.removeIf(value -> value % 2 == 0);
    assertThat(map.size()).isEqualTo(5);
    assertThat(valuesOf(map)).containsExactlyInAnyOrder(9_991L, 9_993L, 9_995L, 9_997L, 9_999L);
    for (long key = 9_991; key < 10_000; key += 2) {
      assertThat(map.get(key << 12)).isEqualTo(key);
    }
  }

  @Test
  void put_refusesNull() {
    assertThatThrownBy(() -> new LongObjectMap<String>().put(1, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null value for key 1");
  }

  @Test
  void computeIfAbsent_refusesAMadeNullAndLeavesTheKeyUnmapped() {
    LongObjectMap<String> map = new LongObjectMap<>();

    assertThatThrownBy(() -> map.computeIfAbsent(7, key -> null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("7");
    assertThat(map.get(7)).isNull();
    assertThat(map.size()).isZero();
  }

  @Test
  void negativeAndOddKeys_work() {
    LongObjectMap<Long> map = new LongObjectMap<>();
    for (long key = -500; key < 500; key += 3) {
      map.put(key, key);
    }
    for (long key = -500; key < 500; key++) {
      assertThat(map.get(key)).isEqualTo((key + 500) % 3 == 0 ? key : null);
    }
  }

  private static <V> List<V> valuesOf(LongObjectMap<V> map) {
    List<V> values = new ArrayList<>();
    map.forEachValue(values::add);
    return values;
  }
}
