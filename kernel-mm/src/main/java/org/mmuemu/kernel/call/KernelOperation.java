package org.mmuemu.kernel.call;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.NameTable;
import org.mmuemu.core.trace.TraceBus;

/**
 * One named kernel operation ({@code vmalloc}, {@code munmap}, {@code flush_tlb_range}, ...): each
 * call of it is bracketed by {@link #begin} and {@link #end}, which publish {@link
 * EventKind#KERNEL_CALL} events (phase 0 and 1, the va or 0, the operation id) and record the
 * call's latency in the run's statistics under the operation's name.
 *
 * <p>Instances are static constants of the code that performs the operation, so the name is
 * interned once and a call allocates nothing. Callers pair {@code begin} and {@code end} in the
 * same method, so the events nest properly per core.
 */
public final class KernelOperation {
  private static final long BEGIN = 0;
  private static final long END = 1;

  private final String name;
  private final int id;

  private KernelOperation(String name) {
    this.name = name;
    this.id = NameTable.KERNEL_OPERATIONS.idOf(name);
  }

  /** The operation called {@code name} (Linux's function name where there is one). */
  public static KernelOperation named(String name) {
    return new KernelOperation(name);
  }

  public String name() {
    return name;
  }

  /**
   * The operation begins on {@code core}.
   *
   * @param va the address it is about, or 0
   * @return the start cycle, to pass to {@link #end}
   */
  public long begin(Machine machine, int core, long va) {
    long now = machine.now(core);
    TraceBus bus = machine.traceBus();
    if (bus.wants(EventKind.KERNEL_CALL)) {
      bus.publish(EventKind.KERNEL_CALL, core, now, BEGIN, va, id);
    }
    return now;
  }

  /**
   * The operation that began at {@code startCycle} ends on {@code core}: publishes the end and
   * records the latency.
   */
  public void end(Machine machine, int core, long va, long startCycle) {
    long now = machine.now(core);
    TraceBus bus = machine.traceBus();
    if (bus.wants(EventKind.KERNEL_CALL)) {
      bus.publish(EventKind.KERNEL_CALL, core, now, END, va, id);
    }
    machine.stats().recordLatency(name, now - startCycle);
  }

  /**
   * The operation ends early on {@code core} (it failed, or found nothing to do): publishes the end
   * but records no latency, so the operation's latency figures describe completed calls.
   */
  public void endUnrecorded(Machine machine, int core, long va) {
    TraceBus bus = machine.traceBus();
    if (bus.wants(EventKind.KERNEL_CALL)) {
      bus.publish(EventKind.KERNEL_CALL, core, machine.now(core), END, va, id);
    }
  }
}
