package org.mmuemu.core.tlb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;

/**
 * Pins down the behaviour every cycle count in mmuemu rests on: which translations a TLB level
 * holds after a given sequence of lookups, fills and invalidations.
 *
 * <p>Replacement is checked against independent models (a reference LRU, hand-computed tree PLRU
 * victim sequences), so a change in victim choice shows up here before it silently shifts every
 * miss count in the results.
 */
final class SetAssociativeTlbTest {
  private static final int PAGE = 12;
  private static final int MIB2 = 21;
  private static final int GIB1 = 30;
  private static final long K4 = 1L << PAGE;
  private static final long M2 = 1L << MIB2;
  private static final long G1 = 1L << GIB1;
  private static final int ASID = 7;
  private static final long STAMP = 1;

  private static SetAssociativeTlb tlb(
      int entries, int ways, Replacement replacement, long seed, Long... sizes) {
    return new SetAssociativeTlb(
        new TlbLevelSpec("t", Serves.UNIFIED, entries, ways, List.of(sizes), 1, replacement), seed);
  }

  private static SetAssociativeTlb tlb(int entries, int ways, Replacement replacement) {
    return tlb(entries, ways, replacement, 1, K4);
  }

  /**
   * Fills a 4 KiB non-global entry for page number {@code vpn}, mapping frame {@code vpn + 1000}.
   */
  private static int fill4k(SetAssociativeTlb tlb, long vpn) {
    return tlb.fill(vpn << PAGE, PAGE, ASID, false, vpn + 1000, 0, STAMP);
  }

  private static boolean holds(SetAssociativeTlb tlb, long vpn) {
    return tlb.probe(vpn << PAGE, ASID) >= 0;
  }

  @Nested
  final class Counting {
    @Test
    void lookups_alwaysEqualHitsPlusMisses() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU);
      SplittableRandom random = new SplittableRandom(11);
      long expectedHits = 0;
      for (int i = 0; i < 2_000; i++) {
        long vpn = random.nextInt(40);
        boolean held = holds(tlb, vpn);
        int slot = tlb.lookup(vpn << PAGE, ASID);
        assertThat(slot >= 0).isEqualTo(held);
        if (slot >= 0) {
          expectedHits++;
        } else {
          fill4k(tlb, vpn);
        }
        assertThat(tlb.lookups()).isEqualTo(tlb.hits() + tlb.misses());
      }
      assertThat(tlb.lookups()).isEqualTo(2_000);
      assertThat(tlb.hits()).isEqualTo(expectedHits);
    }

    @Test
    void probeAndFill_countNoLookups() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU);
      fill4k(tlb, 3);
      tlb.probe(3 << PAGE, ASID);
      tlb.probe(4 << PAGE, ASID);

      assertThat(tlb.lookups()).isZero();
      assertThat(tlb.hits()).isZero();
      assertThat(tlb.misses()).isZero();
    }

    @Test
    void lookupHit_translatesWithTheEntrysFrameAndThePageOffset() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU);
      fill4k(tlb, 3);

      int slot = tlb.lookup((3 << PAGE) + 0x123, ASID);

      assertThat(slot).isNotNegative();
      assertThat(tlb.translate(slot, (3 << PAGE) + 0x123)).isEqualTo((1003L << PAGE) + 0x123);
      assertThat(tlb.pageShiftOf(slot)).isEqualTo(PAGE);
      assertThat(tlb.fillStampOf(slot)).isEqualTo(STAMP);
      assertThat(tlb.occupancy()).isEqualTo(1);
    }
  }

  @Nested
  final class SetIndexing {
    @Test
    void directMapped_vpnsInTheSameSet_evictEachOther() {
      SetAssociativeTlb tlb = tlb(4, 1, Replacement.LRU); // 4 sets
      fill4k(tlb, 1);
      fill4k(tlb, 5); // 5 mod 4 == 1

      assertThat(holds(tlb, 5)).isTrue();
      assertThat(holds(tlb, 1)).isFalse();
    }

    @Test
    void directMapped_vpnsInDifferentSets_coexist() {
      SetAssociativeTlb tlb = tlb(4, 1, Replacement.LRU);
      for (long vpn = 8; vpn < 12; vpn++) { // sets 0, 1, 2, 3
        fill4k(tlb, vpn);
      }

      for (long vpn = 8; vpn < 12; vpn++) {
        assertThat(holds(tlb, vpn)).as("vpn %d", vpn).isTrue();
      }
      assertThat(tlb.occupancy()).isEqualTo(4);
    }

    @ParameterizedTest(name = "vpn {0} -> set {1}")
    @CsvSource({"0, 0", "1, 1", "7, 3", "8, 0", "13, 1"})
    void fill_landsInTheSetOfVpnModSets(long vpn, int set) {
      SetAssociativeTlb tlb = tlb(8, 2, Replacement.LRU); // 4 sets of 2

      int slot = fill4k(tlb, vpn);

      assertThat(slot / 2).isEqualTo(set);
    }

    @Test
    void largePages_indexWithTheirOwnPageNumber() {
      SetAssociativeTlb tlb = tlb(4, 1, Replacement.LRU, 1, K4, M2);
      tlb.fill(1 * M2, MIB2, ASID, false, 0x100, 0, STAMP); // 2 MiB vpn 1 -> set 1
      tlb.fill(5 * M2, MIB2, ASID, false, 0x200, 0, STAMP); // 2 MiB vpn 5 -> set 1 as well

      assertThat(tlb.probe(1 * M2, ASID)).isNegative();
      assertThat(tlb.probe(5 * M2, ASID)).isNotNegative();
    }

    @Test
    void kernelHalfAddresses_indexAndHitLikeAnyOther() {
      SetAssociativeTlb tlb = tlb(8, 2, Replacement.LRU);
      long va = 0xFFFF_8000_0000_3000L;

      int slot = tlb.fill(va, PAGE, ASID, true, 42, 0, STAMP);

      assertThat(slot / 2).isEqualTo((int) Long.remainderUnsigned(va >>> PAGE, 4));
      assertThat(tlb.lookup(va + 8, ASID)).isEqualTo(slot);
      assertThat(tlb.translate(slot, va + 8)).isEqualTo((42L << PAGE) + 8);
    }
  }

  @Nested
  final class LeastRecentlyUsed {
    static Stream<Arguments> geometries() {
      return Stream.of(
          Arguments.of(1, 1),
          Arguments.of(8, 8),
          Arguments.of(16, 4),
          Arguments.of(64, 8),
          Arguments.of(24, 6),
          Arguments.of(32, 1),
          Arguments.of(12, 12));
    }

    @ParameterizedTest(name = "{0} entries, {1} ways")
    @MethodSource("geometries")
    void randomSequence_matchesReferenceLru(int entries, int ways) {
      runAgainstReferenceLru(
          tlb(entries, ways, Replacement.LRU), entries, ways, 97 * entries + ways);
    }

    @Test
    void hitRefreshesRecency() {
      SetAssociativeTlb tlb = tlb(4, 4, Replacement.LRU);
      for (long vpn = 0; vpn < 4; vpn++) {
        fill4k(tlb, vpn);
      }
      tlb.lookup(0, ASID); // 0 becomes the most recent; 1 is now the oldest

      fill4k(tlb, 9);

      assertThat(holds(tlb, 0)).isTrue();
      assertThat(holds(tlb, 1)).isFalse();
    }

    @Test
    void missAndProbe_leaveRecencyAlone() {
      SetAssociativeTlb tlb = tlb(4, 4, Replacement.LRU);
      for (long vpn = 0; vpn < 4; vpn++) {
        fill4k(tlb, vpn);
      }
      tlb.probe(0, ASID);
      tlb.lookup(0, ASID + 1); // a miss: another address space

      fill4k(tlb, 9);

      assertThat(holds(tlb, 0)).isFalse();
    }

    @Test
    void invalidatedWay_isReusedBeforeAnyEviction() {
      SetAssociativeTlb tlb = tlb(4, 4, Replacement.LRU);
      for (long vpn = 0; vpn < 4; vpn++) {
        fill4k(tlb, vpn);
      }
      tlb.invalidateRange(2 << PAGE, 3 << PAGE, ASID, false, false);

      fill4k(tlb, 9);

      assertThat(holds(tlb, 0)).isTrue();
      assertThat(holds(tlb, 1)).isTrue();
      assertThat(holds(tlb, 3)).isTrue();
      assertThat(holds(tlb, 9)).isTrue();
    }

    @Test
    void refillOfAHeldPage_reusesItsSlot() {
      SetAssociativeTlb tlb = tlb(4, 4, Replacement.LRU);
      int first = fill4k(tlb, 2);

      int second = tlb.fill(2 << PAGE, PAGE, ASID, false, 77, 0, STAMP + 1);

      assertThat(second).isEqualTo(first);
      assertThat(tlb.occupancy()).isEqualTo(1);
      assertThat(tlb.pfnOf(second)).isEqualTo(77);
    }
  }

  /**
   * Drives {@code tlb} and a reference LRU (one access-ordered map per set) with the same seeded
   * sequence of lookups, fills on miss and occasional invalidations; every lookup must agree.
   */
  static void runAgainstReferenceLru(SetAssociativeTlb tlb, int entries, int ways, long seed) {
    int sets = entries / ways;
    List<LinkedHashMap<Long, Boolean>> reference = new ArrayList<>();
    for (int set = 0; set < sets; set++) {
      reference.add(new LinkedHashMap<>(16, 0.75f, true));
    }
    SplittableRandom random = new SplittableRandom(seed);
    long hits = 0;
    for (int step = 0; step < 5_000; step++) {
      long vpn = random.nextInt(3 * entries + 2);
      Map<Long, Boolean> set = reference.get((int) (vpn % sets));
      if (random.nextInt(50) == 0) {
        tlb.invalidateRange(vpn << PAGE, (vpn + 1) << PAGE, ASID, false, false);
        set.remove(vpn);
        continue;
      }
      boolean expectedHit = set.get(vpn) != null; // get() refreshes recency in the reference
      boolean hit = tlb.lookup(vpn << PAGE, ASID) >= 0;
      assertThat(hit).as("step %d, vpn %d", step, vpn).isEqualTo(expectedHit);
      if (hit) {
        hits++;
      } else {
        if (set.size() == ways) {
          Long eldest = set.keySet().iterator().next();
          set.remove(eldest);
        }
        set.put(vpn, Boolean.TRUE);
        fill4k(tlb, vpn);
      }
    }
    assertThat(tlb.hits()).isEqualTo(hits);
    assertThat(hits).as("the sequence exercises hits").isPositive();
  }

  @Nested
  final class TreePseudoLru {
    /** Fills a single-set TLB with vpns 0 .. ways-1 (ways 0 .. ways-1, in order). */
    private SetAssociativeTlb fullSet(int ways) {
      SetAssociativeTlb tlb = tlb(ways, ways, Replacement.PLRU);
      for (long vpn = 0; vpn < ways; vpn++) {
        assertThat(fill4k(tlb, vpn)).isEqualTo((int) vpn);
      }
      return tlb;
    }

    private List<Integer> victimsOfNewFills(SetAssociativeTlb tlb, int fills) {
      List<Integer> victims = new ArrayList<>();
      for (int i = 0; i < fills; i++) {
        victims.add(fill4k(tlb, 100 + i));
      }
      return victims;
    }

    // Worked by hand. Node bits point at the half to evict next (false = left); a touch turns
    // every node on its path away from it. After filling ways 0..3: root -> left, [0,1] -> 0,
    // [2,3] -> 2.
    @Test
    void fourWays_victimSequenceAfterInOrderFill() {
      SetAssociativeTlb tlb = fullSet(4);

      assertThat(victimsOfNewFills(tlb, 4)).containsExactly(0, 2, 1, 3);
    }

    // A hit on way 0 turns the root right: PLRU evicts way 2 where true LRU would evict way 1.
    @Test
    void fourWays_hitSteersTheVictimAwayFromItsHalf() {
      SetAssociativeTlb tlb = fullSet(4);
      tlb.lookup(0, ASID);

      assertThat(victimsOfNewFills(tlb, 3)).containsExactly(2, 1, 3);
    }

    // Five ways over an eight-leaf tree: the right half holds way 4 alone, so whenever the root
    // points right the walk is forced down to way 4.
    @Test
    void fiveWays_victimSequenceSkipsMissingLeaves() {
      SetAssociativeTlb tlb = fullSet(5);

      assertThat(victimsOfNewFills(tlb, 4)).containsExactly(0, 4, 2, 4);
    }

    // Twelve ways over a sixteen-leaf tree: the right half holds ways 8..11 only.
    @Test
    void twelveWays_victimSequenceSkipsMissingLeaves() {
      SetAssociativeTlb tlb = fullSet(12);

      assertThat(victimsOfNewFills(tlb, 4)).containsExactly(0, 8, 4, 10);
    }

    @Test
    void twoWays_behaveExactlyLikeLru() {
      runAgainstReferenceLru(tlb(16, 2, Replacement.PLRU), 16, 2, 5);
    }

    @ParameterizedTest(name = "{0} entries, {1} ways")
    @CsvSource({"4, 4", "16, 4", "5, 5", "20, 5", "12, 12", "48, 12", "24, 3", "8, 8"})
    void randomSequence_neverEvictsTheMostRecentlyUsedWay(int entries, int ways) {
      SetAssociativeTlb tlb = tlb(entries, ways, Replacement.PLRU);
      int sets = entries / ways;
      int[] mostRecent = new int[sets];
      java.util.Arrays.fill(mostRecent, -1);
      SplittableRandom random = new SplittableRandom(entries * 31L + ways);
      int evictions = 0;
      for (int step = 0; step < 5_000; step++) {
        long vpn = random.nextInt(3 * entries);
        int set = (int) (vpn % sets);
        int slot = tlb.lookup(vpn << PAGE, ASID);
        if (slot < 0) {
          boolean full = true;
          for (int way = 0; way < ways; way++) {
            full &= tlb.isValid(set * ways + way);
          }
          slot = fill4k(tlb, vpn);
          if (full) {
            evictions++;
            assertThat(slot)
                .as("step %d evicted the most recently used way", step)
                .isNotEqualTo(mostRecent[set]);
          }
        }
        assertThat(slot / ways).isEqualTo(set);
        mostRecent[set] = slot;
      }
      assertThat(evictions).isPositive();
    }
  }

  @Nested
  final class RandomReplacement {
    private List<Integer> victims(long seed) {
      SetAssociativeTlb tlb = tlb(8, 8, Replacement.RANDOM, seed, K4);
      List<Integer> slots = new ArrayList<>();
      for (long vpn = 0; vpn < 200; vpn++) {
        slots.add(fill4k(tlb, vpn));
      }
      return slots;
    }

    @Test
    void sameSeed_sameVictims() {
      assertThat(victims(42)).isEqualTo(victims(42));
    }

    @Test
    void differentSeeds_differentVictims() {
      assertThat(victims(42)).isNotEqualTo(victims(43));
    }

    @Test
    void victims_spreadOverEveryWay() {
      assertThat(victims(42).subList(8, 200)).contains(0, 1, 2, 3, 4, 5, 6, 7);
    }
  }

  @Nested
  final class PageSizes {
    @Test
    void twoMibEntry_hitsForEveryFourKibPageInside() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU, 1, K4, M2);
      long base = 3 * M2;
      long pfn = 0x4_0000; // 1 GiB

      tlb.fill(base + 0x5000, MIB2, ASID, false, pfn, 0, STAMP);

      for (long offset = 0; offset < M2; offset += K4) {
        int slot = tlb.lookup(base + offset + 0x18, ASID);
        assertThat(slot).as("offset 0x%x", offset).isNotNegative();
        assertThat(tlb.translate(slot, base + offset + 0x18))
            .isEqualTo((pfn << PAGE) + offset + 0x18);
      }
      assertThat(tlb.lookup(base - 1, ASID)).isNegative();
      assertThat(tlb.lookup(base + M2, ASID)).isNegative();
      assertThat(tlb.occupancy()).isEqualTo(1);
    }

    @Test
    void oneGibTranslation_isSplinteredIntoTheTwoMibPieceHoldingTheVa() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU, 1, K4, M2);
      long vaBase = 5 * G1;
      long pfn = G1 >>> PAGE; // the page lives at PA 1 GiB
      long va = vaBase + 0x1234_5678L;

      int slot = tlb.fill(va, GIB1, ASID, false, pfn, 0, STAMP);

      assertThat(slot).isNotNegative();
      assertThat(tlb.pageShiftOf(slot)).isEqualTo(MIB2);
      assertThat(tlb.translate(slot, va)).isEqualTo(G1 + 0x1234_5678L);
      long pieceStart = vaBase + 0x1220_0000L; // the 2 MiB piece holding va
      assertThat(tlb.lookup(pieceStart, ASID)).isEqualTo(slot);
      assertThat(tlb.translate(slot, pieceStart)).isEqualTo(G1 + 0x1220_0000L);
      assertThat(tlb.lookup(pieceStart - 1, ASID)).isNegative();
      assertThat(tlb.lookup(pieceStart + M2, ASID)).isNegative();
    }

    @Test
    void twoMibTranslation_inAFourKibOnlyLevel_isSplinteredToFourKib() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU, 1, K4);

      int slot = tlb.fill(M2 + 0x3004, MIB2, ASID, false, 0x800, 0, STAMP);

      assertThat(tlb.pageShiftOf(slot)).isEqualTo(PAGE);
      assertThat(tlb.translate(slot, M2 + 0x3004)).isEqualTo((0x803L << PAGE) + 4);
      assertThat(tlb.probe(M2 + 0x2000, ASID)).isNegative();
    }

    @Test
    void pageSmallerThanEverySize_isNotCached() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU, 1, M2);

      assertThat(tlb.fill(0x5000, PAGE, ASID, false, 5, 0, STAMP)).isEqualTo(-1);
      assertThat(tlb.occupancy()).isZero();
    }

    @Test
    void supportsPageShift_listsExactlyTheConfiguredSizes() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU, 1, M2, K4, G1);

      assertThat(tlb.supportsPageShift(PAGE)).isTrue();
      assertThat(tlb.supportsPageShift(MIB2)).isTrue();
      assertThat(tlb.supportsPageShift(GIB1)).isTrue();
      assertThat(tlb.supportsPageShift(16)).isFalse();
    }
  }

  @Nested
  final class AddressSpaceTags {
    @Test
    void sameVaInAnotherAsid_misses() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU);
      tlb.fill(0x7000, PAGE, 1, false, 7, 0, STAMP);

      assertThat(tlb.lookup(0x7000, 2)).isNegative();
      assertThat(tlb.lookup(0x7000, 1)).isNotNegative();
    }

    @Test
    void sameVaInTwoAsids_areTwoEntries() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU);
      int one = tlb.fill(0x7000, PAGE, 1, false, 7, 0, STAMP);
      int two = tlb.fill(0x7000, PAGE, 2, false, 9, 0, STAMP);

      assertThat(two).isNotEqualTo(one);
      assertThat(tlb.translate(tlb.lookup(0x7000, 1), 0x7000)).isEqualTo(7L << PAGE);
      assertThat(tlb.translate(tlb.lookup(0x7000, 2), 0x7000)).isEqualTo(9L << PAGE);
    }

    @Test
    void globalEntry_hitsInEveryAsid() {
      SetAssociativeTlb tlb = tlb(16, 4, Replacement.LRU);
      int slot = tlb.fill(0x7000, PAGE, 1, true, 7, 0, STAMP);

      for (int asid = 0; asid < 5; asid++) {
        assertThat(tlb.lookup(0x7000, asid)).as("asid %d", asid).isEqualTo(slot);
      }
      assertThat(tlb.isGlobal(slot)).isTrue();
    }
  }

  /**
   * Entries: A = (va1, asid 1), B = (va1, asid 2), G = (va1, global), D = (va2, asid 1), H = (va2,
   * asid 2); all 4 KiB.
   */
  @Nested
  final class Invalidation {
    private static final long VA1 = 0x10_0000;
    private static final long VA2 = 0x20_0000;
    private SetAssociativeTlb tlb;

    private void fillAll() {
      tlb = tlb(64, 8, Replacement.LRU);
      tlb.fill(VA1, PAGE, 1, false, 1, 0, STAMP);
      tlb.fill(VA1, PAGE, 2, false, 2, 0, STAMP);
      tlb.fill(VA1 + 0x1000, PAGE, 3, true, 3, 0, STAMP); // G, on the neighbouring page
      tlb.fill(VA2, PAGE, 1, false, 4, 0, STAMP);
      tlb.fill(VA2, PAGE, 2, false, 5, 0, STAMP);
    }

    private String survivors() {
      StringBuilder sb = new StringBuilder();
      sb.append(present(VA1, 1) ? "A" : "");
      sb.append(present(VA1, 2) ? "B" : "");
      sb.append(tlb.probe(VA1 + 0x1000, 99) >= 0 ? "G" : "");
      sb.append(present(VA2, 1) ? "D" : "");
      sb.append(present(VA2, 2) ? "H" : "");
      return sb.toString();
    }

    private boolean present(long va, int asid) {
      int slot = tlb.probe(va, asid);
      return slot >= 0 && !tlb.isGlobal(slot);
    }

    @ParameterizedTest(name = "asid 1, allAsids {0}, includeGlobal {1} -> {2}")
    @CsvSource({
      "false, false, BGDH, 1",
      "true,  false, GDH,  2",
      "false, true,  BDH,  2",
      "true,  true,  DH,   3"
    })
    void range_removesMatchingEntriesInTheRangeOnly(
        boolean allAsids, boolean includeGlobal, String kept, int removed) {
      fillAll();

      int count = tlb.invalidateRange(VA1, VA1 + 0x2000, 1, allAsids, includeGlobal);

      assertThat(count).isEqualTo(removed);
      assertThat(survivors()).isEqualTo(kept);
    }

    @ParameterizedTest(name = "asid 1, allAsids {0}, includeGlobal {1} -> {2}")
    @CsvSource({
      "false, false, BGH, 2",
      "true,  false, G,   4",
      "false, true,  BH,  3",
      "true,  true,  '',  5"
    })
    void space_removesMatchingEntriesAtEveryVa(
        boolean allAsids, boolean includeGlobal, String kept, int removed) {
      fillAll();

      int count = tlb.invalidateSpace(1, allAsids, includeGlobal);

      assertThat(count).isEqualTo(removed);
      assertThat(survivors()).isEqualTo(kept);
    }

    /**
     * A short range only looks at the sets its pages index, a long one scans every slot; both must
     * remove exactly the entries a reference of every fill says overlap the range and match.
     */
    @Test
    void range_removesWhatAReferenceOfTheFillsSays_forShortAndLongRanges() {
      SplittableRandom random = new SplittableRandom(21);
      for (int round = 0; round < 300; round++) {
        tlb = tlb(64, 4, Replacement.LRU, round, K4, M2, G1);
        long[][] filled = new long[64][]; // slot -> {first byte, last byte, asid, global}
        for (int i = 0; i < 80; i++) {
          int shift = new int[] {PAGE, PAGE, PAGE, MIB2, GIB1}[random.nextInt(5)];
          long va = random.nextLong(4 * G1) & -(1L << shift);
          int asid = random.nextInt(3);
          boolean global = random.nextInt(4) == 0;
          int slot = tlb.fill(va, shift, asid, global, 1, 0, STAMP);
          filled[slot] = new long[] {va, va + (1L << shift) - 1, asid, global ? 1 : 0};
        }
        long start = random.nextLong(4 * G1);
        long end =
            start + (random.nextBoolean() ? random.nextLong(1, 40 * K4) : random.nextLong(G1));
        int asid = random.nextInt(3);
        boolean allAsids = random.nextBoolean();
        boolean includeGlobal = random.nextBoolean();
        int expectedRemoved = 0;
        boolean[] expectedValid = new boolean[64];
        for (int slot = 0; slot < 64; slot++) {
          long[] entry = filled[slot];
          boolean removes =
              entry != null
                  && entry[0] < end
                  && start <= entry[1]
                  && (entry[3] == 1 ? includeGlobal : allAsids || entry[2] == asid);
          expectedValid[slot] = entry != null && !removes;
          expectedRemoved += removes ? 1 : 0;
        }

        assertThat(tlb.invalidateRange(start, end, asid, allAsids, includeGlobal))
            .isEqualTo(expectedRemoved);
        for (int slot = 0; slot < 64; slot++) {
          assertThat(tlb.isValid(slot))
              .as("round %d slot %d", round, slot)
              .isEqualTo(expectedValid[slot]);
        }
      }
    }

    @Test
    void range_endIsExclusive() {
      fillAll();

      tlb.invalidateRange(VA2 - 0x1000, VA2, 1, true, true);

      assertThat(survivors()).isEqualTo("ABGDH");
    }

    @Test
    void range_touchingAnyByteOfALargeEntry_removesIt() {
      tlb = tlb(16, 4, Replacement.LRU, 1, K4, M2);
      tlb.fill(2 * M2, MIB2, 1, false, 0x400, 0, STAMP);

      assertThat(tlb.invalidateRange(3 * M2 - 1, 3 * M2, 1, false, false)).isEqualTo(1);
      assertThat(tlb.occupancy()).isZero();
    }

    @Test
    void range_inAnotherAsid_keepsTheEntry() {
      fillAll();

      assertThat(tlb.invalidateRange(VA2, VA2 + 1, 3, false, false)).isZero();
      assertThat(survivors()).isEqualTo("ABGDH");
    }

    /**
     * The entry for the topmost page of the address space ends at 2^64, which wraps to 0; the
     * overlap test compares with that exclusive end and so never matches.
     */
    @Test
    void range_coveringTheTopmostPage_removesItsEntry() {
      tlb = tlb(16, 4, Replacement.LRU, 1, K4, M2);
      long topPage = -K4; // 0xFFFF_FFFF_FFFF_F000
      long topBlock = -3 * M2; // a 2 MiB block well below the top: the control case
      tlb.fill(topPage, PAGE, 1, true, 0x10, 0, STAMP);
      tlb.fill(topBlock, MIB2, 1, true, 0x200, 0, STAMP);

      int removedBlock = tlb.invalidateRange(topBlock, topBlock + K4, 1, false, true);
      int removedPage = tlb.invalidateRange(topPage, topPage + 1, 1, false, true);

      assertThat(removedBlock).isEqualTo(1);
      assertThat(removedPage).as("entries removed by invalidating va 0x%x", topPage).isEqualTo(1);
      assertThat(tlb.probe(topPage, 1)).isNegative();
    }
  }
}
