package org.mmuemu.core.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.testkit.SmallMachines;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;

/**
 * The acceptance criterion for the oracle: it fires on a deliberately stale TLB entry and stays
 * silent otherwise.
 *
 * <p>Each test plays the classic sequence by hand on the standard two-core fake-ISA machine: map a
 * page by writing descriptors, access it (the TLBs fill), unmap it, free the frame and perhaps hand
 * it to a new owner, then access the old VA again. Without the invalidation between unmap and free,
 * the second access hits the stale entry and must produce exactly one {@link
 * ViolationKind#STALE_TLB_USE} that tells the whole story; with it, the access walks again and
 * nothing is reported.
 */
final class StaleTlbUseOracleTest {
  private static final int CORE = 0;
  private static final int ASID = 3;
  private static final long VA = 0x0000_0000_4000_5000L;
  private static final long OFFSET = 0x2a8;
  private static final int FLAGS =
      PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED | PteFlags.DIRTY;

  private Machine machine;
  private PageTableWriter tables;
  private long root;
  private long frame;
  private final List<Long> violationEvents = new ArrayList<>();

  @BeforeEach
  void mapAndAccess() {
    machine = SmallMachines.standardFake();
    machine.actOn(CORE);
    machine
        .traceBus()
        .addSink(
            new TraceSink() {
              @Override
              public long kindMask() {
                return EventKind.VIOLATION.bit();
              }

              @Override
              public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
                violationEvents.add(c);
              }
            });
    tables = new PageTableWriter(machine);
    root = tables.newRootOnAllCores(ASID);
    frame = machine.memory().allocate(FrameKind.DATA);
    tables.map(root, VA, frame << PhysicalMemory.FRAME_SHIFT, 3, FLAGS);
    machine.recordMapping(frame, VA, true);

    assertThat(machine.access(CORE, VA + OFFSET, 8, AccessKind.WRITE)).isTrue();
    assertThat(machine.core(CORE).tlb("l1d").probe(VA, ASID)).as("filled").isNotNegative();
  }

  private void unmap() {
    tables.clear(root, VA, 3);
    machine.recordMapping(frame, VA, false);
  }

  private long expectedPa() {
    return (frame << PhysicalMemory.FRAME_SHIFT) + OFFSET;
  }

  @Test
  void reallocatedFrameReachedThroughAStaleEntry_reportsExactlyOneStaleTlbUse() {
    unmap();
    machine.memory().free(frame);
    long reused = machine.memory().allocate(FrameKind.PAGE_TABLE); // someone else's page table now
    assertThat(reused).isEqualTo(frame);
    long cycleBefore = machine.now(CORE);
    long walksBefore = machine.stats().walks();

    boolean ok = machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);

    assertThat(ok).as("the stale entry still translates").isTrue();
    assertThat(machine.stats().walks()).as("served by the TLB").isEqualTo(walksBefore);
    assertThat(machine.oracle().total()).isEqualTo(1);
    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    Violation v = machine.oracle().recorded().get(0);
    assertThat(v.kind()).isEqualTo("STALE_TLB_USE");
    assertThat(v.core()).isEqualTo(CORE);
    assertThat(v.cycle())
        .as("l1d's lookup has been paid")
        .isEqualTo(cycleBefore + SmallMachines.L1_HIT_CYCLES);
    assertThat(v.va()).isEqualTo("0x" + Long.toHexString(VA + OFFSET));
    assertThat(v.pa()).isEqualTo("0x" + Long.toHexString(expectedPa()));
    assertThat(v.detail()).contains("l1d").contains("allocated again");
    assertThat(v.history()).anyMatch(line -> line.contains("allocated"));
    assertThat(v.history()).anyMatch(line -> line.contains("freed"));
    assertThat(v.history()).anyMatch(line -> line.contains("tlb filled"));
    assertThat(v.history()).anyMatch(line -> line.contains("unmapped"));
    assertThat(historyOrder(v.history()))
        .containsSubsequence("allocated", "mapped", "tlb filled", "unmapped", "freed", "allocated");
    assertThat(violationEvents).containsExactly((long) ViolationKind.STALE_TLB_USE.ordinal());
  }

  /**
   * A speculative walk of an address a TLB still holds starts no walk and uses nothing: the same
   * stale entry a load is reported for passes silently (a CPU prefetching through a stale pointer
   * does not consume what it finds), and no walk is counted.
   */
  @Test
  void speculativeWalkOfAStaleEntry_isNotAUse() {
    unmap();
    machine.memory().free(frame);
    long walksBefore = machine.stats().walks();

    machine.speculativeWalk(CORE, VA + OFFSET);

    assertThat(machine.oracle().total()).isZero();
    assertThat(machine.stats().walks()).isEqualTo(walksBefore);
    machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);
    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
  }

  /**
   * An ASID reused for another address space without the flush that must come first (arm64's
   * pending flush after a rollover, x86's flush of a reassigned PCID): the old space's entry is hit
   * under the new root, so the new process reaches the old one's memory, although that frame is
   * still allocated and mapped there.
   */
  @Test
  void asidReusedForAnotherAddressSpaceWithoutAFlush_reportsStaleTlbUse() {
    long otherRoot = tables.newTable();
    long otherFrame = machine.memory().allocate(FrameKind.DATA);
    tables.map(otherRoot, VA, otherFrame << PhysicalMemory.FRAME_SHIFT, 3, FLAGS);
    tables.load(CORE, otherRoot, ASID);

    assertThat(machine.access(CORE, VA + OFFSET, 8, AccessKind.READ)).isTrue();

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    Violation v = machine.oracle().recorded().get(0);
    assertThat(v.pa()).isEqualTo("0x" + Long.toHexString(expectedPa()));
    assertThat(v.detail())
        .contains("under ASID " + ASID)
        .contains("0x" + Long.toHexString(root << PhysicalMemory.FRAME_SHIFT))
        .contains("0x" + Long.toHexString(otherRoot << PhysicalMemory.FRAME_SHIFT))
        .contains("reused without a flush");
  }

  @Test
  void anotherAddressSpaceUnderItsOwnAsid_walksItsOwnTablesAndIsNotReported() {
    long otherRoot = tables.newTable();
    long otherFrame = machine.memory().allocate(FrameKind.DATA);
    tables.map(otherRoot, VA, otherFrame << PhysicalMemory.FRAME_SHIFT, 3, FLAGS);
    tables.load(CORE, otherRoot, ASID + 1);

    assertThat(machine.access(CORE, VA + OFFSET, 8, AccessKind.READ)).isTrue();
    tables.load(CORE, root, ASID); // and back: the first space's own entry is still good
    assertThat(machine.access(CORE, VA + OFFSET, 8, AccessKind.READ)).isTrue();

    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void freedFrameReachedThroughAStaleEntry_reportsStaleTlbUse() {
    unmap();
    machine.memory().free(frame);

    machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    Violation v = machine.oracle().recorded().get(0);
    assertThat(v.detail()).contains("which is free");
    assertThat(v.pa()).isEqualTo("0x" + Long.toHexString(expectedPa()));
    assertThat(v.history()).anyMatch(line -> line.contains("freed"));
  }

  @Test
  void staleEntryInTheSecondLevel_isCaughtThere() {
    unmap();
    machine.memory().free(frame);
    // Drop only l1d's copy; l2 keeps the stale one.
    machine.core(CORE).tlb("l1d").invalidateSpace(ASID, true, true);

    machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).detail()).contains("l2");
  }

  @Test
  void everyStaleHit_isCounted() {
    unmap();
    machine.memory().free(frame);

    for (int i = 0; i < 3; i++) {
      machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);
    }

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(3);
  }

  @Test
  void invalidationBeforeTheFree_walksAgainAndReportsNothing() {
    unmap();
    machine.invalidate(
        CORE,
        Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 4096,
        ASID);
    machine.memory().free(frame);
    assertThat(machine.memory().allocate(FrameKind.PAGE_TABLE)).isEqualTo(frame);
    long walksBefore = machine.stats().walks();

    boolean ok = machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);

    assertThat(ok).as("the page is unmapped").isFalse();
    assertThat(machine.stats().walks()).isEqualTo(walksBefore + 1);
    assertThat(machine.unresolvedFaults()).isEqualTo(1);
    assertThat(machine.oracle().total()).isZero();
    assertThat(violationEvents).isEmpty();
  }

  @Test
  void invalidationThenRemapToANewFrame_translatesToTheNewFrameSilently() {
    unmap();
    machine.invalidate(
        CORE,
        Invalidation.local(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 4096,
        ASID);
    machine.memory().free(frame);
    long newFrame = machine.memory().allocate(FrameKind.DATA);
    tables.map(root, VA, newFrame << PhysicalMemory.FRAME_SHIFT, 3, FLAGS);

    long pa = machine.translate(CORE, VA + OFFSET, AccessKind.READ);
    long again = machine.translate(CORE, VA + OFFSET, AccessKind.READ);

    assertThat(pa).isEqualTo((newFrame << PhysicalMemory.FRAME_SHIFT) + OFFSET);
    assertThat(again).isEqualTo(pa);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void liveMappingWithOtherFramesChurning_reportsNothing() {
    for (int i = 0; i < 200; i++) {
      long other = machine.memory().allocate(FrameKind.DATA);
      machine.access(CORE, VA + OFFSET, 8, i % 2 == 0 ? AccessKind.READ : AccessKind.WRITE);
      machine.memory().free(other);
    }

    assertThat(machine.oracle().total()).isZero();
    assertThat(machine.oracle().recorded()).isEmpty();
  }

  @Test
  void staleEntryOnAnotherCore_isReportedForThatCore() {
    machine.access(1, VA + OFFSET, 8, AccessKind.READ); // core 1 fills its own TLBs
    unmap();
    machine.invalidate(
        CORE, Invalidation.local(InvalidationScope.VA), VA, VA + 4096, ASID); // core 0 only
    machine.memory().free(frame);
    machine.clocks().waitUntil(1, machine.now(CORE)); // core 1 reaches the free's time

    machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).core()).isEqualTo(1);
  }

  @Test
  void hitOnACoreBehindTheFree_isLegitimateUntilItsClockReachesTheFree() {
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);
    machine.charge(CORE, 10_000); // core 0 runs ahead: unmaps and frees at its own, later, time
    unmap();
    machine.memory().free(frame);
    long freedAt = machine.now(CORE);
    assertThat(machine.now(1)).isLessThan(freedAt);

    machine.access(1, VA + OFFSET, 8, AccessKind.READ); // before the free, at core 1's time
    assertThat(machine.oracle().total()).as("a use before the free").isZero();

    machine.clocks().waitUntil(1, freedAt);
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);
    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertEveryViolationAtOrAfterItsFramesFree();
  }

  @Test
  void frameFreedTwiceSinceTheFill_isStaleFromTheFirstFree() {
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);
    unmap();
    machine.charge(CORE, 1_000);
    machine.memory().free(frame);
    long firstFree = machine.now(CORE);
    assertThat(machine.memory().allocate(FrameKind.DATA)).isEqualTo(frame);
    machine.charge(CORE, 1_000);
    machine.memory().free(frame);

    machine.clocks().waitUntil(1, firstFree);
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);

    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isEqualTo(1);
    assertThat(machine.oracle().recorded().get(0).cycle()).isGreaterThanOrEqualTo(firstFree);
  }

  @Test
  void broadcastInvalidationBeforeTheFree_coversEveryCore() {
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);
    unmap();
    machine.invalidate(
        CORE,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 4096,
        ASID);
    machine.memory().free(frame);
    machine.clocks().waitUntil(1, machine.now(CORE));

    machine.access(CORE, VA + OFFSET, 8, AccessKind.READ);
    machine.access(1, VA + OFFSET, 8, AccessKind.READ);

    assertThat(machine.oracle().total()).isZero();
  }

  /**
   * Every recorded violation is stamped at or after a {@code freed} event of its frame: the oracle
   * never reports a use before its cause.
   */
  private void assertEveryViolationAtOrAfterItsFramesFree() {
    for (Violation v : machine.oracle().recorded()) {
      List<String> lines = v.history();
      int fill = 0;
      while (fill < lines.size() && !lines.get(fill).contains(" tlb filled")) {
        fill++;
      }
      long firstFreed =
          lines.subList(Math.min(fill, lines.size()), lines.size()).stream()
              .filter(line -> line.contains(" freed"))
              .mapToLong(
                  line ->
                      Long.parseLong(
                          line.substring("cycle ".length(), line.indexOf(' ', "cycle ".length()))))
              .min()
              .orElseThrow();
      assertThat(v.cycle()).as(v.toString()).isGreaterThanOrEqualTo(firstFreed);
    }
  }

  /** Reduces history lines to their event names, in order. */
  private static List<String> historyOrder(List<String> history) {
    List<String> events = new ArrayList<>();
    for (String line : history) {
      for (String event :
          List.of("tlb filled", "unmapped", "mapped", "allocated", "freed", "invalidated")) {
        if (line.contains(" " + event)) {
          events.add(event);
          break;
        }
      }
    }
    return events;
  }
}
