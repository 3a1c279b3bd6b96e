package org.mmuemu.kernel.scenario;

import java.util.function.BooleanSupplier;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.TraceSink;

/**
 * Records the {@link Footprint} of each segment of an exhaustive search's run from the events the
 * machine and the kernel publish, the scenario steps that start, and the scheduler's decisions.
 * Installed only on runs of a search with partial-order reduction: other runs publish nothing more.
 */
final class SegmentRecorder implements TraceSink {
  private BooleanSupplier timedEffectsPending = () -> false;
  private boolean[] inKernel = new boolean[0];
  private Footprint current;
  private Footprint own;
  private int segmentCore = -1;

  /** Listens to {@code machine}'s events from now on. */
  void attach(Machine machine) {
    attach(machine.coreCount(), machine::timedEffectsPending);
    machine.traceBus().addSink(this);
  }

  /** Records for {@code cores} cores, asking {@code timedEffectsPending} at each segment's ends. */
  void attach(int cores, BooleanSupplier timedEffectsPending) {
    this.inKernel = new boolean[cores];
    this.timedEffectsPending = timedEffectsPending;
  }

  /**
   * A segment as recorded: {@code own}, what the chosen core did until it stopped, and {@code
   * forced}, what other cores did after it (finished or blocked) before the next choice point, when
   * only one core could run at each decision between; null when none did.
   */
  record Segment(Footprint own, Footprint forced) {}

  /** Ends the running segment and returns it, or null when none runs. */
  Segment endSegment() {
    if (current == null) {
      return null;
    }
    finish(current);
    Segment ended = own == null ? new Segment(current, null) : new Segment(own, current);
    current = null;
    own = null;
    return ended;
  }

  /** Starts the segment {@code core} runs from this choice point. */
  void open(int core) {
    current = start(core);
    own = null;
    if (inKernel[core]) {
      current.kernel(); // resumed inside a kernel call
    }
  }

  /**
   * Any decision of the scheduler, also those the search does not record (one candidate, or the
   * stopped core going on at a point the search does not choose at): another core running ends the
   * chosen core's own part of the segment; what follows is its forced part.
   */
  void decided(int core) {
    if (current == null || core == segmentCore) {
      return;
    }
    if (own == null) {
      own = finish(current);
      current = start(core);
    } else {
      current.ranOn(core);
      segmentCore = core;
    }
    if (inKernel[core]) {
      current.kernel();
    }
  }

  private Footprint start(int core) {
    Footprint started = new Footprint();
    segmentCore = core;
    started.ranOn(core);
    if (timedEffectsPending.getAsBoolean()) {
      started.time();
    }
    return started;
  }

  private Footprint finish(Footprint footprint) {
    if (timedEffectsPending.getAsBoolean()) {
      footprint.time();
    }
    return footprint;
  }

  /** A scenario step starts on {@code core}; {@code kernelStep} unless it is a load or a store. */
  void stepStarts(int core, boolean kernelStep) {
    inKernel[core] = kernelStep;
    if (kernelStep && current != null) {
      current.kernel();
    }
  }

  void stepEnds(int core) {
    inKernel[core] = false;
  }

  @Override
  public long kindMask() {
    long mask = 0;
    for (EventKind kind : EventKind.values()) {
      mask |= kind.bit();
    }
    return mask;
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    if (current == null) {
      return;
    }
    if (core != segmentCore) {
      current.ranOn(core);
      current.time(); // an interrupt handler, or work charged to another core
    }
    switch (kind) {
      case TLB_HIT, TLB_FILL -> current.frame(b >>> PhysicalMemory.FRAME_SHIFT);
      case WALK -> {
        current.walked();
        if (b >= 0) {
          current.frame(b >>> PhysicalMemory.FRAME_SHIFT);
        }
      }
      case TLB_MISS, VIOLATION -> {
        // the own TLB is the core's; a violation changes nothing a later step reads
      }
      case INVALIDATE, BARRIER, IPI_SEND, IPI_RECEIVE -> {
        current.kernel();
        current.time();
      }
      case KERNEL_CALL, FAULT, FRAME_ALLOC, FRAME_FREE -> {
        inKernel[core] = true; // until the step ends: a fault handler may stop mid-way
        current.kernel();
      }
    }
  }
}
