package org.mmuemu.core.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.InterruptCosts;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.isa.TableUpdateChecker;
import org.mmuemu.core.isa.TranslationRegime;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.Oracle;
import org.mmuemu.core.testkit.FakeIsa;
import org.mmuemu.core.testkit.MachineSpecBuilder;
import org.mmuemu.core.testkit.PageTableWriter;
import org.mmuemu.core.testkit.SmallMachines;

/**
 * The ISA-neutral hooks the arm64 fidelity work added to the machine, exercised on the fake ISA so
 * that they hold for any ISA: the table-update checker sees every descriptor write, invalidation
 * and barrier in order; range invalidation exists only where the ISA names it; a fetch needs
 * execute permission; hardware dirty marking happens only for formats that ask for it; contiguous
 * leaves fill one larger TLB entry; broadcasts share the interconnect at the ISA's interval, and
 * land on every other core at their completion (an IPI handler's flush at the delivery time), while
 * the issuer's own TLBs change at once.
 */
final class MachineIsaHooksTest {
  private static final long VA = 0x0000_0000_4000_0000L;
  private static final int RW = PteFlags.WRITE | PteFlags.USER | PteFlags.ACCESSED;

  /** The fake ISA with chosen hooks switched on. */
  private record HookedIsa(
      FakeIsa base,
      PageTableFormat format,
      MaintenanceInstructions maintenance,
      List<String> events)
      implements Isa {
    @Override
    public String id() {
      return base.id();
    }

    @Override
    public PageTableFormat pageTableFormat() {
      return format;
    }

    @Override
    public TranslationRegime regime() {
      return base.regime();
    }

    @Override
    public InterruptCosts interrupts() {
      return base.interrupts();
    }

    @Override
    public TableUpdateChecker newTableUpdateChecker(
        PhysicalMemory memory, Oracle oracle, int cores) {
      return new TableUpdateChecker() {
        @Override
        public void descriptorWritten(
            int core, long cycle, long tablePfn, int index, long previous, long next) {
          events.add(
              "write " + index + " " + Long.toHexString(previous) + "->" + Long.toHexString(next));
        }

        @Override
        public void invalidated(int core, Invalidation op, long vaStart, long vaEnd, int asid) {
          events.add("invalidate " + op.scope() + (op.broadcast() ? " broadcast" : " local"));
        }

        @Override
        public void barrier(int core, BarrierKind kind) {
          events.add("barrier " + kind);
        }
      };
    }
  }

  /**
   * The fake format, with hardware dirty marking and 16-entry contiguous runs (flag CONTIGUOUS).
   */
  private static final class HookedFormat implements PageTableFormat {
    private final PageTableFormat base = new FakeIsa().pageTableFormat();

    @Override
    public int levels() {
      return base.levels();
    }

    @Override
    public int pageShift() {
      return base.pageShift();
    }

    @Override
    public int indexBits() {
      return base.indexBits();
    }

    @Override
    public boolean isValid(long d, int level) {
      return base.isValid(d, level);
    }

    @Override
    public boolean isLeaf(long d, int level) {
      return base.isLeaf(d, level);
    }

    @Override
    public boolean allowsLeaf(int level) {
      return base.allowsLeaf(level);
    }

    @Override
    public long outputPa(long d, int level) {
      return base.outputPa(d, level);
    }

    @Override
    public int flags(long d, int level) {
      return base.flags(d, level);
    }

    @Override
    public long encodeTable(long pa, int level) {
      return base.encodeTable(pa, level);
    }

    @Override
    public long encodeLeaf(long pa, int level, int flags) {
      return base.encodeLeaf(pa, level, flags);
    }

    @Override
    public long withFlags(long d, int level, int flags) {
      return base.withFlags(d, level, flags);
    }

    @Override
    public boolean setsDirtyInHardware() {
      return true;
    }

    @Override
    public int contiguousShift(long descriptor, int level) {
      return (flags(descriptor, level) & PteFlags.CONTIGUOUS) != 0 ? 4 : 0;
    }
  }

  private static MaintenanceInstructions maintenanceWithInterval(
      long intervalCycles, long completionCycles) {
    MaintenanceInstructions base = new FakeIsa().maintenance();
    return new MaintenanceInstructions() {
      @Override
      public String name(Invalidation op, boolean currentTag) {
        return base.name(op, currentTag);
      }

      @Override
      public long issueCycles(Invalidation op, boolean currentTag) {
        return 0;
      }

      @Override
      public boolean hasBroadcast() {
        return true;
      }

      @Override
      public long broadcastCompletionCycles(int cores) {
        return completionCycles;
      }

      @Override
      public long broadcastIntervalCycles() {
        return intervalCycles;
      }

      @Override
      public String barrierName(BarrierKind kind) {
        return kind.name();
      }
    };
  }

  private static Machine hooked(List<String> events, long intervalCycles) {
    Isa isa =
        new HookedIsa(
            new FakeIsa(),
            new HookedFormat(),
            maintenanceWithInterval(intervalCycles, 500),
            events);
    Machine machine = new Machine(MachineSpecBuilder.forIsa(FakeIsa.ID).build(), isa, 1);
    machine.actOn(0);
    return machine;
  }

  @Test
  void tableUpdateChecker_seesWritesInvalidationsAndBarriersInOrder() {
    List<String> events = new ArrayList<>();
    Machine machine = hooked(events, 0);
    PageTableWriter tables = new PageTableWriter(machine);
    long root = tables.newTable();
    tables.map(root, VA, 0x5000, 3, RW);
    events.clear();

    tables.clear(root, VA, 3);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(events).hasSize(3);
    assertThat(events.get(0)).startsWith("write 0 ").endsWith("->0");
    assertThat(events.subList(1, 3))
        .containsExactly("invalidate VA broadcast", "barrier BROADCAST_COMPLETE");
  }

  @Test
  void hardwareDirtyFormat_marksTheLeafOnTheFirstStore() {
    Machine machine = hooked(new ArrayList<>(), 0);
    PageTableWriter tables = new PageTableWriter(machine);
    long root = tables.newRootOnAllCores(1);
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, VA, pa, 3, RW);

    machine.translate(0, VA, AccessKind.WRITE);
    machine.translate(0, VA, AccessKind.WRITE);

    long leafTable = tables.tableAt(root, VA, 3, false);
    assertThat(
            machine
                    .format()
                    .flags(
                        machine.memory().readDescriptor(leafTable, machine.format().index(VA, 3)),
                        3)
                & PteFlags.DIRTY)
        .isEqualTo(PteFlags.DIRTY);
    assertThat(machine.stats().hardwareDirtyUpdates()).isEqualTo(1);
  }

  @Test
  void contiguousLeaf_fillsOneEntryOfTheRunSize_whereTheLevelListsIt() {
    Machine machine = hooked(new ArrayList<>(), 0);
    PageTableWriter tables = new PageTableWriter(machine);
    long root = tables.newRootOnAllCores(1);
    long pa = machine.memory().allocateContiguous(16, FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    for (int i = 0; i < 16; i++) {
      tables.map(
          root, VA + i * 0x1000L, pa + i * 0x1000L, 3, RW | PteFlags.DIRTY | PteFlags.CONTIGUOUS);
    }

    assertThat(machine.translate(0, VA + 0x3008, AccessKind.READ)).isEqualTo(pa + 0x3008);

    // The standard levels list 4 KiB and 2 MiB only: each holds the 4 KiB piece of the 64 KiB run.
    assertThat(
            machine.core(0).tlb("l2").pageShiftOf(machine.core(0).tlb("l2").probe(VA + 0x3000, 1)))
        .isEqualTo(12);
    assertThat(machine.translate(0, VA + 0xF000, AccessKind.READ)).isEqualTo(pa + 0xF000);
    assertThat(machine.oracle().total()).isZero();
  }

  @Test
  void broadcastInterval_delaysALaterBroadcastsCompletion() {
    Machine machine = hooked(new ArrayList<>(), 300);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);
    machine.invalidate(
        1,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);

    assertThat(machine.barrier(0, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(500);
    assertThat(machine.barrier(1, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(800);
  }

  /**
   * Maps VA on both cores of a hooked machine (completion 500 cycles) and fills both cores' TLBs.
   */
  private static Machine mappedOnBothCores() {
    Machine machine = hooked(new ArrayList<>(), 0);
    PageTableWriter tables = new PageTableWriter(machine);
    long root = tables.newRootOnAllCores(1);
    tables.map(
        root, VA, machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT, 3, RW);
    machine.translate(0, VA, AccessKind.READ);
    machine.translate(1, VA, AccessKind.READ);
    return machine;
  }

  private static long l1dHits(Machine machine, int core) {
    return machine.core(core).tlb("l1d").hits();
  }

  @Test
  void broadcast_removesTheIssuersEntryAtOnce_andAnotherCoresAtItsCompletion() {
    Machine machine = mappedOnBothCores();
    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.VA), VA, VA + 0x1000, 1);
    long completes = machine.now(0) + 500;

    assertThat(machine.core(0).tlb("l1d").probe(VA, 1)).as("issuer, at once").isNegative();
    assertThat(machine.pendingInvalidations(1)).isEqualTo(1);
    assertThat(machine.now(1)).isLessThan(completes);
    long hits = l1dHits(machine, 1);
    machine.translate(1, VA, AccessKind.READ);
    assertThat(l1dHits(machine, 1)).as("core 1 before the arrival still hits").isEqualTo(hits + 1);

    machine.clocks().waitUntil(1, completes);
    long walks = machine.stats().walks();
    machine.translate(1, VA, AccessKind.READ);
    assertThat(machine.stats().walks()).as("core 1 at the arrival walks").isEqualTo(walks + 1);
    assertThat(machine.pendingInvalidations(1)).isZero();
  }

  @Test
  void completionBarrier_waitsForTheArrival_andAnObserverAtThatTimeSeesTheEntryGone() {
    Machine machine = mappedOnBothCores();
    machine.invalidate(0, Invalidation.broadcast(InvalidationScope.VA), VA, VA + 0x1000, 1);
    assertThat(machine.core(1).tlb("l1d").probe(VA, 1))
        .as("seen from before the completion")
        .isNotNegative();

    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(machine.now(1)).as("core 1 itself is still behind").isLessThan(machine.now(0));
    assertThat(machine.core(1).tlb("l1d").probe(VA, 1))
        .as("seen from the acting core after DSB")
        .isNegative();
  }

  @Test
  void ipiHandler_runsOnTheTargetWhenItReachesTheDelivery_andTheInitiatorResumesAtTheAck() {
    Machine machine = mappedOnBothCores();
    IpiHandler flush =
        (target, initiator) ->
            machine.invalidate(
                target, Invalidation.local(InvalidationScope.VA), VA, VA + 0x1000, 1);
    InterruptCosts costs = machine.isa().interrupts();
    long sendAt = machine.now(0);
    long delivery = sendAt + costs.sendCycles() + costs.deliveryCycles();
    List<long[]> translations = new ArrayList<>(); // {clock before, walked (1) or hit (0)}
    long[] initiatorResumedAt = {-1};
    machine.run(
        new org.mmuemu.core.time.CoreProgram[] {
          core -> {
            machine.sendIpis(core, new int[] {1}, 1, flush, true);
            initiatorResumedAt[0] = machine.now(core);
            return false;
          },
          core -> {
            long before = machine.now(core);
            long walks = machine.stats().walks();
            machine.translate(core, VA, AccessKind.READ);
            translations.add(new long[] {before, machine.stats().walks() - walks});
            machine.charge(core, 7);
            return before < delivery + 400;
          }
        },
        () -> false);

    assertThat(translations)
        .as("every translation before the delivery hits the old entry")
        .filteredOn(t -> t[0] < delivery)
        .isNotEmpty()
        .allMatch(t -> t[1] == 0);
    long firstWalkAt =
        translations.stream().filter(t -> t[1] == 1).mapToLong(t -> t[0]).min().orElseThrow();
    assertThat(firstWalkAt)
        .as("the handler ran at the first step boundary at or after the delivery")
        .isGreaterThanOrEqualTo(delivery)
        .isLessThan(delivery + 200);
    assertThat(initiatorResumedAt[0])
        .as("the initiator waits for the acknowledgement")
        .isGreaterThanOrEqualTo(delivery + costs.handlerEntryCycles() + costs.ackCycles());
    assertThat(machine.stats().latencies().get("ipi.delivery_lateness").max())
        .as("taken within one step of the delivery")
        .isLessThan(200);
  }

  @Test
  void run_deliversWhatIsStillPending_toCoresThatNeverRanAgain() {
    Machine machine = mappedOnBothCores();
    boolean[] issued = {false};
    machine.run(
        new org.mmuemu.core.time.CoreProgram[] {
          core -> {
            machine.invalidate(core, Invalidation.broadcast(InvalidationScope.ALL), 0, 0, 1);
            issued[0] = true;
            return false;
          },
          null
        },
        () -> false);

    assertThat(issued[0]).isTrue();
    assertThat(machine.pendingInvalidations(1)).isZero();
    assertThat(machine.core(1).tlb("l1d").occupancy()).isZero();
  }

  @Test
  void rangeInvalidation_onAnIsaWithoutRangeForms_isRefused() {
    Machine machine = SmallMachines.standardFake();

    assertThatThrownBy(
            () ->
                machine.invalidate(
                    0,
                    Invalidation.broadcast(InvalidationScope.VA)
                        .withLastLevelOnly(true)
                        .withRange(true),
                    VA,
                    VA + 0x2000,
                    1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("fake has no broadcast va last-level range");
  }

  @Test
  void fetch_needsExecutePermission() {
    Machine machine = SmallMachines.standardFake();
    PageTableWriter tables = new PageTableWriter(machine);
    long root = tables.newRootOnAllCores(1);
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, VA, pa, 3, RW);
    tables.map(root, VA + 0x1000, pa, 3, RW | PteFlags.EXEC);

    assertThat(machine.translate(0, VA, AccessKind.FETCH)).isEqualTo(-1);
    assertThat(machine.translate(0, VA + 0x1000, AccessKind.FETCH)).isEqualTo(pa);
  }

  @Test
  void storeThroughACleanEntry_leavesTheDescriptorAlone_unlessTheFormatSetsDirtyInHardware() {
    Machine machine = SmallMachines.standardFake();
    PageTableWriter tables = new PageTableWriter(machine);
    long root = tables.newRootOnAllCores(1);
    long pa = machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT;
    tables.map(root, VA, pa, 3, RW);

    machine.translate(0, VA, AccessKind.WRITE);

    assertThat(machine.stats().hardwareDirtyUpdates()).isZero();
  }
}
