package org.mmuemu.kernel.arch.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.ACK;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.DATA_VA;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.DELIVERY;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.HANDLER_ENTRY;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.INVLPG;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.INVPCID_ALL;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.MOV_CR3;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.SEND;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmuemu.kernel.mm.Mm;

/**
 * x86 shootdowns end to end (Linux flush_tlb_mm_range over Machine.sendIpis): the initiator sends
 * one IPI per other CPU running the mm, does its own share meanwhile, and continues when the
 * slowest target has acknowledged; each target's clock pays handler entry plus its flush; the cost
 * grows by the send cost per extra target; 33 pages are flushed page by page and 34 by a full flush
 * (tlb_single_page_flush_ceiling).
 */
final class X86ShootdownTest {

  private static long[] clocks(RoundCostX86Kernel f) {
    long[] now = new long[f.machine.coreCount()];
    for (int core = 0; core < now.length; core++) {
      now[core] = f.machine.now(core);
    }
    return now;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4, 7})
  void rangeLiveOnNOtherCores_initiatorWaitsForAllN_andEachTargetPaysItsHandler(int others) {
    RoundCostX86Kernel f = new RoundCostX86Kernel(8);
    Mm mm = f.process(1);
    for (int core = 0; core <= others; core++) {
      f.runAndTouch(core, mm, 1);
    }
    long start = f.alignClocks();
    long[] before = clocks(f);

    f.machine.actOn(0);
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);

    // The last IPI leaves after N sends; it is delivered, handled (entry + one INVLPG) and
    // acknowledged.
    long expected = others * SEND + DELIVERY + HANDLER_ENTRY + INVLPG + ACK;
    assertThat(f.machine.now(0) - start).isEqualTo(expected);
    assertThat(f.machine.stats().latencies().get("flush_tlb_range").max()).isEqualTo(expected);
    for (int core = 1; core <= others; core++) {
      // outside a run a target is idle: it takes the IPI at its delivery and pays its handler
      long delivery = start + core * SEND + DELIVERY;
      assertThat(f.machine.now(core))
          .as("core %d pays its handler from its delivery", core)
          .isEqualTo(delivery + HANDLER_ENTRY + INVLPG);
      assertThat(f.cached(core, DATA_VA)).isFalse();
    }
    for (int core = others + 1; core < 8; core++) {
      assertThat(f.machine.now(core)).as("core %d never ran the mm", core).isEqualTo(before[core]);
    }
    assertThat(f.cached(0, DATA_VA)).isFalse();
    assertThat(f.machine.stats().ipis()).isEqualTo(others);
    assertThat(f.count("INVLPG")).isEqualTo(others + 1);
  }

  @Test
  void shootdownCost_growsWithTheNumberOfTargets_bySendCostEach() {
    long[] latency = new long[8];
    for (int others = 1; others < 8; others++) {
      RoundCostX86Kernel f = new RoundCostX86Kernel(8);
      Mm mm = f.process(1);
      for (int core = 0; core <= others; core++) {
        f.runAndTouch(core, mm, 1);
      }
      long start = f.alignClocks();
      f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);
      latency[others] = f.machine.now(0) - start;
    }
    for (int others = 2; others < 8; others++) {
      assertThat(latency[others] - latency[others - 1]).isEqualTo(SEND);
    }
  }

  @Test
  void slowestTarget_decidesWhenTheInitiatorContinues() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(4);
    Mm mm = f.process(1);
    for (int core = 0; core < 4; core++) {
      f.runAndTouch(core, mm, 1);
    }
    long start = f.alignClocks();
    long busyUntil = start + 10_000;
    f.machine
        .clocks()
        .waitUntil(2, busyUntil); // core 2 is already past the delivery: it takes it at its clock

    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);

    assertThat(f.machine.now(0)).isEqualTo(busyUntil + HANDLER_ENTRY + INVLPG + ACK);
    assertThat(f.machine.now(2)).isEqualTo(busyUntil + HANDLER_ENTRY + INVLPG);
  }

  @Test
  void ceiling_33PagesAreFlushedPageByPage_34ByAFullFlush() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(4);
    Mm mm = f.process(40);
    for (int core = 0; core < 4; core++) {
      f.runAndTouch(core, mm, 40);
    }

    long cr3Writes = f.count("MOV CR3");
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 33 * 4096L, 12, true);
    assertThat(f.count("INVLPG")).as("33 per CPU").isEqualTo(4 * 33);
    assertThat(f.count("MOV CR3")).isEqualTo(cr3Writes);
    assertThat(f.cached(1, DATA_VA + 33 * 4096L)).as("page 33 was outside the range").isTrue();

    long start = f.alignClocks();
    long[] before = clocks(f);
    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 34 * 4096L, 12, true);

    assertThat(f.count("INVLPG")).as("no more INVLPGs").isEqualTo(4 * 33);
    assertThat(f.count("MOV CR3") - cr3Writes).as("one CR3 rewrite per CPU").isEqualTo(4);
    assertThat(f.cached(1, DATA_VA + 39 * 4096L)).as("a full flush takes everything").isFalse();
    assertThat(f.machine.now(1) - before[1]).isEqualTo(SEND + DELIVERY + HANDLER_ENTRY + MOV_CR3);
    assertThat(f.machine.now(0) - start)
        .isEqualTo(3 * SEND + DELIVERY + HANDLER_ENTRY + MOV_CR3 + ACK);
  }

  @Test
  void kernelRange_interruptsEveryOnlineCpu_evenIdleOnes_andGoesFullAboveTheCeiling() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(4);
    long kernelVa = 0xFFFF_C900_0000_0000L;
    long start = f.alignClocks();

    f.policy.flushTlbKernelRange(0, kernelVa, kernelVa + 2 * 4096L);
    assertThat(f.machine.stats().ipis()).isEqualTo(3);
    assertThat(f.count("INVLPG")).isEqualTo(4 * 2);
    assertThat(f.machine.now(0) - start)
        .isEqualTo(3 * SEND + DELIVERY + HANDLER_ENTRY + 2 * INVLPG + ACK);

    start = f.alignClocks();
    f.policy.flushTlbKernelRange(0, kernelVa, kernelVa + 34 * 4096L);
    assertThat(f.machine.stats().ipis()).isEqualTo(6);
    assertThat(f.count("INVLPG")).isEqualTo(4 * 2);
    assertThat(f.count("INVPCID type 2")).as("__flush_tlb_all on each CPU").isEqualTo(4);
    assertThat(f.machine.now(0) - start)
        .isEqualTo(3 * SEND + DELIVERY + HANDLER_ENTRY + INVPCID_ALL + ACK);
  }
}
