package org.mmuemu.kernel.vmalloc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The busy areas answer "which live area contains this address" (vfree's lookup of a bad address,
 * the debugging {@code findArea}) from hash maps keyed by start, so the answer is held to a scan of
 * every area, for addresses at, inside, between and past areas, with one node and with several.
 */
final class BusyAreasTest {
  private static final long PAGE = Vmalloc.PAGE_BYTES;
  private static final long BASE = 0xffff_8000_1000_0000L;

  @Test
  void containing_findsTheAreaAScanFinds() {
    for (int nodes : new int[] {1, 4}) {
      SplittableRandom random = new SplittableRandom(nodes);
      BusyAreas busy = new BusyAreas(nodes);
      List<VmapArea> live = new ArrayList<>();
      long va = BASE;
      for (int i = 0; i < 300; i++) {
        va += random.nextInt(4) * PAGE; // a gap of 0 to 3 pages
        VmapArea area = new VmapArea(i, va, va + (1 + random.nextInt(40)) * PAGE, 0);
        va = area.vaEnd();
        if (random.nextInt(4) == 0) {
          continue; // a range no live area holds
        }
        busy.insert(area);
        live.add(area);
      }
      for (long probe = BASE - 2 * PAGE; probe < va + 2 * PAGE; probe += PAGE / 2) {
        assertThat(busy.containing(probe)).as("0x%x", probe).isSameAs(scan(live, probe));
      }
      VmapArea first = live.get(0);
      assertThat(busy.remove(busy.nodeOf(first.vaStart()), first.vaStart())).isSameAs(first);
      assertThat(busy.containing(first.vaStart() + PAGE / 2)).isNull();
      assertThat(busy.totalSize()).isEqualTo(live.size() - 1);
    }
  }

  @Test
  void insertAndRemove_keepEachNodesCount_acrossAnEmptiedChunk() {
    BusyAreas busy = new BusyAreas(4);
    long chunkEnd = (BASE | ((2L << 20) - 1)) + 1;
    VmapArea last = new VmapArea(1, chunkEnd - PAGE, chunkEnd + PAGE, 0); // spans two chunks
    VmapArea next = new VmapArea(2, chunkEnd + PAGE, chunkEnd + 3 * PAGE, 0);
    busy.insert(last);
    busy.insert(next);
    busy.insert(next); // the same start again replaces, counts once
    assertThat(busy.size(busy.nodeOf(last.vaStart()))).isEqualTo(1);
    assertThat(busy.totalSize()).isEqualTo(2);
    assertThat(busy.remove(busy.nodeOf(next.vaStart()) ^ 1, next.vaStart())).isNull();
    assertThat(busy.remove(busy.nodeOf(next.vaStart()), next.vaStart())).isSameAs(next);
    assertThat(busy.containing(chunkEnd + PAGE / 2)).isSameAs(last);
    assertThat(busy.remove(busy.nodeOf(last.vaStart()), last.vaStart())).isSameAs(last);
    assertThat(busy.totalSize()).isZero();
    assertThat(busy.containing(chunkEnd)).isNull();
    busy.insert(last);
    assertThat(busy.treeOf(last)).isEqualTo(busy.nodeOf(last.vaStart()));
    assertThat(busy.all()).containsExactly(last);
  }

  @Test
  void containing_scansWhenAnAreaStartedOffAPage() {
    BusyAreas busy = new BusyAreas(2);
    VmapArea odd = new VmapArea(1, BASE + 64, BASE + 3 * PAGE, 0);
    busy.insert(odd);
    assertThat(busy.containing(BASE + 2 * PAGE)).isSameAs(odd);
    assertThat(busy.containing(BASE)).isNull();
  }

  private static VmapArea scan(List<VmapArea> areas, long va) {
    for (VmapArea area : areas) {
      if (Long.compareUnsigned(area.vaStart(), va) <= 0
          && Long.compareUnsigned(va, area.vaEnd()) < 0) {
        return area;
      }
    }
    return null;
  }
}
