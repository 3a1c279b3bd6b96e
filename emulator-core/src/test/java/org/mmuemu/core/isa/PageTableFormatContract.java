package org.mmuemu.core.isa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link PageTableFormat} must keep for the generic walker and the kernel to
 * work with it: descriptors round-trip through encode and decode at every level that allows them,
 * with every combination of the neutral flags; index arithmetic matches the level shifts; the zero
 * descriptor is invalid everywhere; misaligned or misplaced leaves are rejected; {@code withFlags}
 * changes nothing but the flags.
 *
 * <p>Each ISA module adds a small subclass that supplies its format and its expected shape, and
 * only the tests specific to its own encoding (JCTools' contract-test pattern).
 */
public abstract class PageTableFormatContract {
  /** The six neutral flags every format must carry: WRITE, USER, EXEC, GLOBAL, ACCESSED, DIRTY. */
  protected static final int CORE_FLAGS =
      PteFlags.WRITE
          | PteFlags.USER
          | PteFlags.EXEC
          | PteFlags.GLOBAL
          | PteFlags.ACCESSED
          | PteFlags.DIRTY;

  /** The format under test. */
  protected abstract PageTableFormat format();

  /** Number of table levels the format must have. */
  protected abstract int expectedLevels();

  /** The levels at which the format must accept a leaf (page or block), and no others. */
  protected abstract Set<Integer> expectedLeafLevels();

  /** log2 of the base page size. */
  protected int expectedPageShift() {
    return 12;
  }

  /** Index bits per table. */
  protected int expectedIndexBits() {
    return 9;
  }

  /** Every combination of {@link #CORE_FLAGS}, 0 included. */
  protected static List<Integer> flagCombinations() {
    List<Integer> combinations = new ArrayList<>();
    for (int flags = 0; flags <= CORE_FLAGS; flags++) {
      if ((flags & ~CORE_FLAGS) == 0) {
        combinations.add(flags);
      }
    }
    return combinations;
  }

  /** Output addresses aligned for a leaf at {@code level}: small, odd multiples, and a high one. */
  protected List<Long> alignedPas(int level) {
    long size = 1L << format().levelShift(level);
    return List.of(0L, size, 3 * size, 37 * size, (1L << 39) + 5 * size);
  }

  @Test
  void shape_matchesTheExpectedLevelsPageAndIndexBits() {
    assertThat(format().levels()).isEqualTo(expectedLevels());
    assertThat(format().pageShift()).isEqualTo(expectedPageShift());
    assertThat(format().indexBits()).isEqualTo(expectedIndexBits());
  }

  @Test
  void levelShift_isThePageShiftAtTheLastLevel_andGrowsByTheIndexBitsPerLevelUp() {
    PageTableFormat f = format();
    assertThat(f.levelShift(f.levels() - 1)).isEqualTo(f.pageShift());
    for (int level = 0; level < f.levels() - 1; level++) {
      assertThat(f.levelShift(level) - f.levelShift(level + 1))
          .as("level %d", level)
          .isEqualTo(f.indexBits());
    }
  }

  @Test
  void index_extractsExactlyTheBitsOfEachLevel() {
    PageTableFormat f = format();
    SplittableRandom random = new SplittableRandom(8);
    for (int n = 0; n < 200; n++) {
      int[] indexes = new int[f.levels()];
      long va = random.nextLong(1L << f.pageShift());
      for (int level = 0; level < f.levels(); level++) {
        indexes[level] = random.nextInt(1 << f.indexBits());
        va |= (long) indexes[level] << f.levelShift(level);
      }
      long kernelVa = va | (-1L << (f.levelShift(0) + f.indexBits())); // sign-extended upper half
      for (int level = 0; level < f.levels(); level++) {
        assertThat(f.index(va, level)).as("va 0x%x level %d", va, level).isEqualTo(indexes[level]);
        assertThat(f.index(kernelVa, level))
            .as("va 0x%x level %d", kernelVa, level)
            .isEqualTo(indexes[level]);
      }
    }
  }

  @Test
  void index_ofTheFirstAndLastAddress() {
    PageTableFormat f = format();
    int last = (1 << f.indexBits()) - 1;
    for (int level = 0; level < f.levels(); level++) {
      assertThat(f.index(0, level)).isZero();
      assertThat(f.index(-1L, level)).isEqualTo(last);
    }
  }

  @Test
  void allowsLeaf_exactlyAtTheExpectedLevels() {
    for (int level = 0; level < format().levels(); level++) {
      assertThat(format().allowsLeaf(level))
          .as("level %d", level)
          .isEqualTo(expectedLeafLevels().contains(level));
    }
  }

  @Test
  void leaf_roundTripsEveryFlagCombinationAtEveryLeafLevel() {
    PageTableFormat f = format();
    for (int level : expectedLeafLevels()) {
      for (long pa : alignedPas(level)) {
        for (int flags : flagCombinations()) {
          long descriptor = f.encodeLeaf(pa, level, flags);
          String where =
              String.format("level %d, pa 0x%x, flags %s", level, pa, PteFlags.describe(flags));
          assertThat(f.isValid(descriptor, level)).as(where).isTrue();
          assertThat(f.isLeaf(descriptor, level)).as(where).isTrue();
          assertThat(f.outputPa(descriptor, level)).as(where).isEqualTo(pa);
          assertThat(f.flags(descriptor, level)).as(where).isEqualTo(flags);
        }
      }
    }
  }

  @Test
  void table_roundTripsAtEveryLevelAboveTheLast() {
    PageTableFormat f = format();
    List<Long> tablePas = List.of(0x1000L, 0x3_7000L, 0x12_3456_7000L, (1L << 39) + 0x5000L);
    for (int level = 0; level < f.levels() - 1; level++) {
      for (long pa : tablePas) {
        long descriptor = f.encodeTable(pa, level);
        String where = String.format("level %d, pa 0x%x", level, pa);
        assertThat(f.isValid(descriptor, level)).as(where).isTrue();
        assertThat(f.isLeaf(descriptor, level)).as(where).isFalse();
        assertThat(f.outputPa(descriptor, level)).as(where).isEqualTo(pa);
      }
    }
  }

  @Test
  void table_atTheLastLevel_isRejected() {
    assertThatThrownBy(() -> format().encodeTable(0x1000, format().levels() - 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void leaf_whereNoLeafIsAllowed_isRejected() {
    for (int level = 0; level < format().levels(); level++) {
      if (!expectedLeafLevels().contains(level)) {
        int l = level;
        assertThatThrownBy(() -> format().encodeLeaf(0, l, PteFlags.WRITE))
            .as("level %d", level)
            .isInstanceOf(IllegalArgumentException.class);
      }
    }
  }

  @Test
  void zeroDescriptor_isInvalidAtEveryLevel() {
    for (int level = 0; level < format().levels(); level++) {
      assertThat(format().isValid(0L, level)).as("level %d", level).isFalse();
    }
  }

  @Test
  void misalignedLeaf_isRejected() {
    PageTableFormat f = format();
    for (int level : expectedLeafLevels()) {
      long size = 1L << f.levelShift(level);
      List<Long> misaligned = new ArrayList<>(List.of(size + size / 2, 3 * size + 1, size - 8));
      if (size > (1L << f.pageShift())) {
        misaligned.add(size + (1L << f.pageShift())); // a base page inside the block
      }
      for (long pa : misaligned) {
        int l = level;
        assertThatThrownBy(() -> f.encodeLeaf(pa, l, PteFlags.WRITE))
            .as("level %d, pa 0x%x", level, pa)
            .isInstanceOf(IllegalArgumentException.class);
      }
    }
  }

  @Test
  void withFlags_replacesTheFlagsOnly() {
    PageTableFormat f = format();
    List<Integer> combinations = flagCombinations();
    for (int level : expectedLeafLevels()) {
      long pa = 7L << f.levelShift(level);
      for (int from : combinations) {
        long descriptor = f.encodeLeaf(pa, level, from);
        for (int to : combinations) {
          long changed = f.withFlags(descriptor, level, to);
          String where =
              String.format(
                  "level %d, %s -> %s", level, PteFlags.describe(from), PteFlags.describe(to));
          assertThat(f.outputPa(changed, level)).as(where).isEqualTo(pa);
          assertThat(f.isValid(changed, level)).as(where).isTrue();
          assertThat(f.isLeaf(changed, level)).as(where).isTrue();
          assertThat(f.flags(changed, level)).as(where).isEqualTo(to);
          assertThat(changed).as(where).isEqualTo(f.encodeLeaf(pa, level, to));
        }
      }
    }
  }
}
