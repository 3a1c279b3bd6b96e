package org.mmuemu.core.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The oracle's stale-translation check is only as good as the frame stamps: they must grow with
 * every allocation, survive until the next one, and never be shared by two allocations. These tests
 * hold the allocator to that, and to the LIFO reuse that makes stale translations meet a
 * re-allocated frame quickly.
 */
final class PhysicalMemoryTest {
  private static final long FRAME = 1L << PhysicalMemory.FRAME_SHIFT;

  @Test
  void allocationStamps_growWithEveryAllocation() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);
    SplittableRandom random = new SplittableRandom(3);
    List<Long> held = new ArrayList<>();
    long lastStamp = 0;
    for (int step = 0; step < 2_000; step++) {
      if (!held.isEmpty() && (held.size() > 40 || random.nextBoolean())) {
        memory.free(held.remove(random.nextInt(held.size())));
        assertThat(memory.allocationSequence()).isEqualTo(lastStamp);
        continue;
      }
      long pfn = memory.allocate(FrameKind.DATA);
      held.add(pfn);
      assertThat(memory.allocationStamp(pfn)).isGreaterThan(lastStamp);
      assertThat(memory.allocationSequence()).isEqualTo(memory.allocationStamp(pfn));
      lastStamp = memory.allocationStamp(pfn);
    }
  }

  @Test
  void contiguousAllocation_givesEachFrameItsOwnGrowingStamp() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);
    long before = memory.allocationSequence();

    long first = memory.allocateContiguous(8, FrameKind.DATA);

    for (long pfn = first; pfn < first + 8; pfn++) {
      assertThat(memory.allocationStamp(pfn)).isEqualTo(before + 1 + (pfn - first));
    }
  }

  @Test
  void freedFrames_areReusedLastInFirstOut() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);
    long a = memory.allocate(FrameKind.DATA);
    long b = memory.allocate(FrameKind.DATA);
    long c = memory.allocate(FrameKind.DATA);
    memory.free(a);
    memory.free(c);

    assertThat(memory.allocate(FrameKind.DATA)).isEqualTo(c);
    assertThat(memory.allocate(FrameKind.KERNEL)).isEqualTo(a);
    assertThat(memory.allocate(FrameKind.DATA)).isNotIn(a, b, c);
  }

  @Test
  void frameZero_isNeverHandedOut() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 15; i++) {
      seen.add(memory.allocate(FrameKind.DATA));
    }

    assertThat(seen).hasSize(15).doesNotContain(0L).allMatch(pfn -> pfn > 0 && pfn < 16);
    assertThat(memory.isAllocated(0)).isFalse();
    assertThat(memory.framesInUse()).isEqualTo(15);
  }

  @Test
  void exhaustedMemory_throwsSimulatedOutOfMemory() {
    PhysicalMemory memory = new PhysicalMemory(8 * FRAME);
    for (int i = 0; i < 7; i++) {
      memory.allocate(FrameKind.DATA);
    }

    assertThatThrownBy(() -> memory.allocate(FrameKind.DATA))
        .isInstanceOf(SimulatedOutOfMemoryException.class)
        .hasMessageContaining("8 frames")
        .hasMessageContaining("memoryBytes");
    assertThat(memory.framesInUse()).isEqualTo(7);
  }

  @Test
  void freeAfterExhaustion_makesTheFrameAvailableAgain() {
    PhysicalMemory memory = new PhysicalMemory(4 * FRAME);
    memory.allocate(FrameKind.DATA);
    long middle = memory.allocate(FrameKind.DATA);
    memory.allocate(FrameKind.DATA);
    memory.free(middle);

    assertThat(memory.allocate(FrameKind.PAGE_TABLE)).isEqualTo(middle);
  }

  @Test
  void doubleFree_throws() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    long pfn = memory.allocate(FrameKind.DATA);
    memory.free(pfn);

    assertThatThrownBy(() -> memory.free(pfn))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("freed twice");
    assertThat(memory.framesInUse()).isZero();
  }

  @Test
  void freeOfFrameZeroOrOutOfRange_throws() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);

    assertThatThrownBy(() -> memory.free(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> memory.free(16)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void neverUsedFrame_isFreeAndFreeingItThrows() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);

    assertThat(memory.kind(5)).isEqualTo(FrameKind.FREE);
    assertThatThrownBy(() -> memory.free(5)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void allocateFree_isRejected() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);

    assertThatThrownBy(() -> memory.allocate(FrameKind.FREE))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void isCurrent_holdsFromTheFillStampOnUntilTheFrameIsFreed() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    long pfn = memory.allocate(FrameKind.DATA);
    long stamp = memory.allocationStamp(pfn);

    assertThat(memory.isCurrent(pfn, stamp - 1)).as("filled before the allocation").isFalse();
    assertThat(memory.isCurrent(pfn, stamp)).isTrue();
    memory.allocate(FrameKind.DATA); // other allocations move the sequence on
    assertThat(memory.isCurrent(pfn, memory.allocationSequence())).isTrue();
    assertThat(memory.isCurrent(pfn, stamp)).isTrue();

    memory.free(pfn);
    assertThat(memory.isCurrent(pfn, stamp)).as("freed").isFalse();
    assertThat(memory.isCurrent(pfn, memory.allocationSequence())).as("freed").isFalse();
  }

  @Test
  void isCurrent_afterReallocation_holdsOnlyForFillsAfterIt() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    long pfn = memory.allocate(FrameKind.DATA);
    long oldFill = memory.allocationSequence();
    memory.free(pfn);
    assertThat(memory.allocate(FrameKind.PAGE_TABLE)).isEqualTo(pfn);

    assertThat(memory.isCurrent(pfn, oldFill)).isFalse();
    assertThat(memory.isCurrent(pfn, memory.allocationSequence())).isTrue();
  }

  @Test
  void isCurrent_forNoFrame_isFalse() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);

    assertThat(memory.isCurrent(0, Long.MAX_VALUE)).isFalse();
    assertThat(memory.isCurrent(16, Long.MAX_VALUE)).isFalse();
    assertThat(memory.isCurrent(-1, Long.MAX_VALUE)).isFalse();
    assertThat(memory.isCurrent(3, Long.MAX_VALUE)).as("never allocated").isFalse();
  }

  @Test
  void contiguousAllocation_isAlignedToItsCount() {
    PhysicalMemory memory = new PhysicalMemory(256 * FRAME);
    memory.allocate(FrameKind.DATA); // 1
    memory.allocate(FrameKind.DATA); // 2

    long four = memory.allocateContiguous(4, FrameKind.DATA);
    long sixteen = memory.allocateContiguous(16, FrameKind.DATA);
    long one = memory.allocateContiguous(1, FrameKind.KERNEL);
    long sixtyFour = memory.allocateContiguous(64, FrameKind.DATA);

    assertThat(four).isEqualTo(4);
    assertThat(sixteen).isEqualTo(16);
    assertThat(one).isEqualTo(32);
    assertThat(sixtyFour).isEqualTo(64);
    for (long pfn = sixtyFour; pfn < sixtyFour + 64; pfn++) {
      assertThat(memory.kind(pfn)).isEqualTo(FrameKind.DATA);
    }
  }

  @Test
  void contiguousAllocation_returnsTheAlignmentGapToTheFreePool() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);
    memory.allocate(FrameKind.DATA); // 1; untouched memory now starts at 2

    long run = memory.allocateContiguous(8, FrameKind.DATA); // 8..15; 2..7 skipped

    assertThat(run).isEqualTo(8);
    Set<Long> next = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      next.add(memory.allocate(FrameKind.DATA));
    }
    assertThat(next).containsExactlyInAnyOrder(2L, 3L, 4L, 5L, 6L, 7L);
    assertThat(memory.allocate(FrameKind.DATA)).isEqualTo(16);
  }

  @Test
  void contiguousAllocation_thatDoesNotFit_throwsSimulatedOutOfMemory() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);

    assertThatThrownBy(() -> memory.allocateContiguous(64, FrameKind.DATA))
        .isInstanceOf(SimulatedOutOfMemoryException.class);
    assertThat(memory.allocateContiguous(32, FrameKind.DATA)).isEqualTo(32);
  }

  @Test
  void contiguousAllocation_ofNonPowerOfTwo_isRejected() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);

    assertThatThrownBy(() -> memory.allocateContiguous(3, FrameKind.DATA))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> memory.allocateContiguous(0, FrameKind.DATA))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tableEmpty_agreesWithTheDescriptors_throughWritesFreesAndReuse() {
    PhysicalMemory memory = new PhysicalMemory(64 * FRAME);
    SplittableRandom random = new SplittableRandom(11);
    long[] tables = new long[4];
    for (int t = 0; t < tables.length; t++) {
      tables[t] = memory.allocate(FrameKind.PAGE_TABLE);
    }
    for (int step = 0; step < 20_000; step++) {
      int t = random.nextInt(tables.length);
      long table = tables[t];
      if (random.nextInt(100) == 0) {
        memory.free(table);
        tables[t] = memory.allocate(FrameKind.PAGE_TABLE);
        table = tables[t];
        for (int index = 0; index < 512; index++) {
          assertThat(memory.readDescriptor(table, index)).as("reused table").isZero();
        }
      } else {
        // few slots, and zero half the time, so tables fill, empty and refill
        memory.writeDescriptor(table, random.nextInt(8) * 61, random.nextBoolean() ? 0L : step + 1);
      }
      boolean allZero = true;
      for (int index = 0; index < 512; index++) {
        allZero &= memory.readDescriptor(table, index) == 0;
      }
      assertThat(memory.tableEmpty(table)).as("step %d", step).isEqualTo(allZero);
    }
  }

  @Test
  void reusedPageTableFrame_startsWithEveryDescriptorClear() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    long table = memory.allocate(FrameKind.PAGE_TABLE);
    memory.writeDescriptor(table, 17, 0xABCDL);
    memory.free(table);

    assertThat(memory.allocate(FrameKind.PAGE_TABLE)).isEqualTo(table);
    assertThat(memory.readDescriptor(table, 17)).isZero();
  }

  @Test
  void writeDescriptor_intoADataFrame_throws() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    long data = memory.allocate(FrameKind.DATA);

    assertThatThrownBy(() -> memory.writeDescriptor(data, 0, 1L))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void listener_hearsEveryAllocationAndFreeInOrder() {
    PhysicalMemory memory = new PhysicalMemory(16 * FRAME);
    List<String> events = new ArrayList<>();
    memory.setListener(
        new FrameListener() {
          @Override
          public void frameAllocated(long pfn, FrameKind kind, long allocationStamp) {
            events.add("alloc " + pfn + " " + kind + " " + allocationStamp);
          }

          @Override
          public void frameFreed(long pfn, FrameKind previousKind) {
            events.add("free " + pfn + " " + previousKind);
          }
        });

    long a = memory.allocate(FrameKind.PAGE_TABLE);
    memory.free(a);
    memory.allocate(FrameKind.DATA);

    assertThat(events)
        .containsExactly("alloc 1 PAGE_TABLE 1", "free 1 PAGE_TABLE", "alloc 1 DATA 2");
  }

  @Test
  void sizeNotAMultipleOfAFrame_isRejected() {
    assertThatThrownBy(() -> new PhysicalMemory(FRAME + 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PhysicalMemory(0)).isInstanceOf(IllegalArgumentException.class);
  }

  /** A 1 TiB machine that uses a few frames must cost the host a few frames, not 9 GB. */
  @Test
  void hugeMemory_costsTheHostOnlyTheFramesUsed() {
    PhysicalMemory memory = new PhysicalMemory(1L << 40);

    long last = 0;
    for (int i = 0; i < 3000; i++) {
      last = memory.allocate(FrameKind.DATA);
    }
    long table = memory.allocate(FrameKind.PAGE_TABLE);
    memory.writeDescriptor(table, 7, 0x1234);

    assertThat(memory.frameCount()).isEqualTo(1L << 28);
    assertThat(memory.hostCapacityFrames()).isBetween(3001L, 8192L);
    assertThat(memory.isAllocated(last)).isTrue();
    assertThat(memory.readDescriptor(table, 7)).isEqualTo(0x1234);
    long untouched = (1L << 28) - 1;
    assertThat(memory.isAllocated(untouched)).isFalse();
    assertThat(memory.isCurrent(untouched, Long.MAX_VALUE)).isFalse();
    assertThat(memory.kind(untouched)).isEqualTo(FrameKind.FREE);
    assertThat(memory.allocationStamp(untouched)).isZero();
    assertThat(memory.readDescriptor(untouched, 0)).isZero();
    assertThatThrownBy(() -> memory.free(untouched)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void contiguousAllocation_highInHugeMemory_growsTheHostArraysToCoverIt() {
    PhysicalMemory memory = new PhysicalMemory(1L << 40);
    memory.allocate(FrameKind.DATA);

    long first = memory.allocateContiguous(1 << 18, FrameKind.DATA);

    assertThat(first).isEqualTo(1L << 18);
    assertThat(memory.isAllocated(first + (1 << 18) - 1)).isTrue();
    // The alignment gap went to the free pool and comes back first.
    assertThat(memory.allocate(FrameKind.DATA)).isEqualTo((1L << 18) - 1);
  }
}
