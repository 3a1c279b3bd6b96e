package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.isa.arm64.Arm64TestMachines.COMPLETION_BASE_CYCLES;
import static org.mmuemu.isa.arm64.Arm64TestMachines.COMPLETION_PER_CORE_CYCLES;
import static org.mmuemu.isa.arm64.Arm64TestMachines.DSB_ISHST_CYCLES;
import static org.mmuemu.isa.arm64.Arm64TestMachines.DSB_ISH_CYCLES;
import static org.mmuemu.isa.arm64.Arm64TestMachines.DSB_NSH_CYCLES;
import static org.mmuemu.isa.arm64.Arm64TestMachines.ISB_CYCLES;
import static org.mmuemu.isa.arm64.Arm64TestMachines.TLBI_CYCLES;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.machine.Machine;

/**
 * The arm64 barriers' timing and names: {@code DSB ISH} waits until every broadcast TLBI its own
 * core issued has completed on every core (a configured base plus a cost per core, so the wait
 * grows with the machine), and nothing more; {@code DSB ISHST}, {@code DSB NSH} and {@code ISB}
 * cost their configured cycles and never wait for TLBIs. Each is counted by name.
 */
final class Arm64BarrierTest {
  private static final long VA = 0x4000_0000L;

  private static long completion(int cores) {
    return COMPLETION_BASE_CYCLES + COMPLETION_PER_CORE_CYCLES * cores;
  }

  @Test
  void dsbIsh_afterABroadcastTlbi_waitsForItsCompletionOnEveryCore() {
    Machine machine = Arm64TestMachines.build(4, Map.of());
    machine.charge(0, 1000);

    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);
    long waited = machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(waited).isEqualTo(completion(4));
    assertThat(machine.now(0)).isEqualTo(1000 + TLBI_CYCLES + completion(4));
  }

  @Test
  void dsbIshCompletion_growsWithTheNumberOfCores() {
    long[] waits = new long[3];
    int[] coreCounts = {2, 8, 32};
    for (int i = 0; i < coreCounts.length; i++) {
      Machine machine = Arm64TestMachines.build(coreCounts[i], Map.of());
      machine.invalidate(0, Invalidation.broadcast(InvalidationScope.ASID), 0, 0, 1);
      waits[i] = machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    }

    assertThat(waits).containsExactly(completion(2), completion(8), completion(32));
  }

  @Test
  void dsbIsh_afterPipelinedTlbis_waitsForTheLastOneOnly() {
    Machine machine = Arm64TestMachines.build(2, Map.of());
    for (int page = 0; page < 10; page++) {
      machine.invalidate(
          0,
          Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
          VA + page * 0x1000L,
          VA + (page + 1) * 0x1000L,
          1);
    }

    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(machine.now(0)).isEqualTo(10 * TLBI_CYCLES + completion(2));
  }

  @Test
  void dsbIsh_withNothingOutstanding_costsItsOwnCyclesOnly() {
    Machine machine = Arm64TestMachines.build(2, Map.of());
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(machine.barrier(0, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(DSB_ISH_CYCLES);
  }

  @Test
  void dsbIsh_onAnotherCore_doesNotWaitForThisCoresTlbis() {
    Machine machine = Arm64TestMachines.build(2, Map.of());
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);

    assertThat(machine.barrier(1, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(DSB_ISH_CYCLES);
    assertThat(machine.barrier(0, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(completion(2));
  }

  @Test
  void dsbIshst_dsbNsh_isb_neverWaitForBroadcastTlbis() {
    Machine machine = Arm64TestMachines.build(2, Map.of());
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);

    assertThat(machine.barrier(0, BarrierKind.TABLE_STORES_VISIBLE)).isEqualTo(DSB_ISHST_CYCLES);
    assertThat(machine.barrier(0, BarrierKind.LOCAL_COMPLETE)).isEqualTo(DSB_NSH_CYCLES);
    assertThat(machine.barrier(0, BarrierKind.CONTEXT_SYNC)).isEqualTo(ISB_CYCLES);
  }

  @Test
  void rangeTlbi_isOutstandingUntilDsbIsh_likeAByVaTlbi() {
    Machine machine = Arm64TestMachines.build(4, Map.of("tlbiRange", true));
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true).withRange(true),
        VA,
        VA + (64L << 12),
        1);

    assertThat(machine.barrier(0, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(completion(4));
  }

  @Test
  void dvmInterval_serialisesBroadcastsFromAllCores() {
    Machine machine =
        Arm64TestMachines.build(
            2,
            Map.of(
                "costs",
                Map.of(
                    "dvmIntervalCycles",
                    100,
                    "broadcastCompletionBaseCycles",
                    600,
                    "broadcastCompletionPerCoreCycles",
                    0,
                    "tlbiCycles",
                    10)));
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true),
        VA,
        VA + 0x1000,
        1);
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

    // Core 0: issued at 10 and 20, entering at 10 and 110; core 1's enters at 210.
    assertThat(machine.barrier(0, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(110 + 600 - 20);
    assertThat(machine.barrier(1, BarrierKind.BROADCAST_COMPLETE)).isEqualTo(210 + 600 - 10);
  }

  @Test
  void everyBarrier_isCountedByItsName() {
    Machine machine = Arm64TestMachines.build(2, Map.of());
    machine.barrier(0, BarrierKind.LOCAL_TABLE_STORES_VISIBLE);
    machine.barrier(0, BarrierKind.TABLE_STORES_VISIBLE);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);
    machine.barrier(1, BarrierKind.BROADCAST_COMPLETE);
    machine.barrier(0, BarrierKind.LOCAL_COMPLETE);
    machine.barrier(0, BarrierKind.CONTEXT_SYNC);

    assertThat(machine.stats().instructionCounts())
        .containsExactly(
            Map.entry("DSB ISH", 2L),
            Map.entry("DSB ISHST", 1L),
            Map.entry("DSB NSH", 1L),
            Map.entry("DSB NSHST", 1L),
            Map.entry("ISB", 1L));
  }
}
