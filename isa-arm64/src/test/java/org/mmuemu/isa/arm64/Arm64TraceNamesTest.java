package org.mmuemu.isa.arm64;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;
import org.mmuemu.core.trace.json.EventJson;

/**
 * Maintenance and barrier instructions appear in traces under their architectural names, the same
 * names {@code maintenance.byInstruction} counts them by, so a trace of a flush reads like the
 * kernel's code: {@code DSB ISHST}, {@code TLBI RVALE1IS}, {@code DSB ISH}.
 */
final class Arm64TraceNamesTest {

  @Test
  void invalidationsAndBarriers_areTracedByInstructionName() {
    Machine machine = Arm64TestMachines.build(2, Map.of("tlbiRange", true));
    List<String> lines = new ArrayList<>();
    machine
        .traceBus()
        .addSink(
            new TraceSink() {
              @Override
              public long kindMask() {
                return EventKind.INVALIDATE.bit() | EventKind.BARRIER.bit();
              }

              @Override
              public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
                StringBuilder line = new StringBuilder();
                EventJson.append(line, kind, core, cycle, a, b, c, List.of());
                lines.add(line.toString());
              }
            });

    machine.barrier(0, BarrierKind.TABLE_STORES_VISIBLE);
    machine.invalidate(
        0,
        Invalidation.broadcast(InvalidationScope.VA).withLastLevelOnly(true).withRange(true),
        0x4000_0000L,
        0x4000_0000L + 0x20000,
        7);
    machine.invalidate(
        0, Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS), 0x5000_0000L, 0x5000_1000L, 0);
    machine.barrier(0, BarrierKind.BROADCAST_COMPLETE);

    assertThat(lines).hasSize(4);
    assertThat(lines.get(0))
        .contains("\"kind\":\"barrier\"")
        .contains("\"instruction\":\"DSB ISHST\"");
    assertThat(lines.get(1))
        .contains("\"instruction\":\"TLBI RVALE1IS\"")
        .contains("\"va\":\"0x40000000\"")
        .contains("\"asid\":7");
    assertThat(lines.get(2)).contains("\"instruction\":\"TLBI VAAE1IS\"");
    assertThat(lines.get(3)).contains("\"instruction\":\"DSB ISH\"");
  }
}
