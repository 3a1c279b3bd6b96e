package org.mmuemu.kernel.scenario;

import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.NameTable;
import org.mmuemu.core.trace.TraceSink;

/**
 * Tells the narrative what happens inside the steps: the kernel calls a step makes (nested below
 * the step's own), faults, IPIs, invalidations and barriers, each at its core's clock.
 */
final class NarrativeSink implements TraceSink {
  private static final long KINDS =
      EventKind.KERNEL_CALL.bit()
          | EventKind.FAULT.bit()
          | EventKind.IPI_SEND.bit()
          | EventKind.IPI_RECEIVE.bit()
          | EventKind.INVALIDATE.bit()
          | EventKind.BARRIER.bit();

  private final Narrative narrative;
  private final int[] depth = new int[64];

  NarrativeSink(Narrative narrative) {
    this.narrative = narrative;
  }

  @Override
  public long kindMask() {
    return KINDS;
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    if (core < 0 || core >= depth.length) {
      return;
    }
    switch (kind) {
      case KERNEL_CALL -> kernelCall(core, cycle, a == 0, c);
      case FAULT ->
          narrative.add(cycle, core, indent(core) + "page fault at " + ScenarioOps.hex(a));
      case IPI_SEND -> narrative.add(cycle, core, indent(core) + "sends an IPI to cpu" + a);
      case IPI_RECEIVE -> narrative.add(cycle, core, indent(core) + "takes an IPI from cpu" + a);
      case INVALIDATE ->
          narrative.add(
              cycle,
              core,
              indent(core) + name(NameTable.INSTRUCTIONS, c) + " " + ScenarioOps.hex(a));
      case BARRIER -> narrative.add(cycle, core, indent(core) + name(NameTable.INSTRUCTIONS, c));
      default -> {}
    }
  }

  private void kernelCall(int core, long cycle, boolean begin, long operation) {
    if (!begin) {
      depth[core] = Math.max(0, depth[core] - 1);
      if (depth[core] > 0) {
        narrative.add(
            cycle, core, indent(core) + name(NameTable.KERNEL_OPERATIONS, operation) + " returns");
      }
      return;
    }
    if (depth[core] > 0) {
      narrative.add(cycle, core, indent(core) + name(NameTable.KERNEL_OPERATIONS, operation));
    }
    depth[core]++;
  }

  private String indent(int core) {
    return "  ".repeat(Math.max(1, depth[core]));
  }

  private static String name(NameTable table, long id) {
    String name = table.nameOf(id);
    return name != null ? name : "#" + id;
  }
}
