package org.mmuemu.app.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntBinaryOperator;
import java.util.function.IntFunction;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.NameTable;
import org.mmuemu.core.trace.TraceSink;

/**
 * Writes events as Chrome trace-event JSON ({@code {"traceEvents":[...]}}), the format Perfetto UI
 * and {@code chrome://tracing} open: one process per machine ({@code pid}), one track per simulated
 * core ({@code tid} = core), with
 *
 * <ul>
 *   <li>slices: kernel calls ({@code B}/{@code E} from {@code kernel.call} begin and end) and page
 *       walks ({@code X}, from the walk's end cycle back by its cycles);
 *   <li>instants ({@code i}): invalidations and barriers (named by instruction), faults,
 *       violations;
 *   <li>flow arrows ({@code s} to {@code f}) from each {@code ipi.send} on the initiator to the
 *       matching {@code ipi.receive} on the target, both drawn as zero-length slices the arrows
 *       bind to;
 *   <li>counters ({@code C}), per core and interval of {@code counterIntervalCycles}: each TLB
 *       level's occupancy (valid entries) and its misses in the interval.
 * </ul>
 *
 * Timestamps are microseconds, from cycles and the machine's frequency, with six decimals
 * (picoseconds), so slices nested in cycles stay nested.
 *
 * <p>Streaming: each event is written as it arrives (memory is bounded by the cores' open kernel
 * calls and pending IPIs). {@link #finish} closes open slices and ends the arrows of IPIs still on
 * their way at their core's last time, and closes the JSON array, so a run that stopped early (an
 * error, Ctrl-C) still leaves a valid file; {@link #finishStopped} also says why, in a last global
 * instant event. The writer receives an open {@link Writer}; where it goes (temporary file, rename)
 * is the caller's. Confined to the simulation thread.
 */
public final class ChromeTraceWriter implements TraceSink {
  private final Writer out;
  private final int pid;
  private final double frequencyGHz;
  private final long kindMask;
  private final List<String> tlbLevelNames;
  private final IntFunction<String> operationNames;
  private final long counterIntervalCycles;
  private final StringBuilder line = new StringBuilder(256);
  private final List<ArrayDeque<String>> openCalls = new ArrayList<>();
  private final List<long[]> missesInInterval = new ArrayList<>();
  private long[] lastCycle = new long[0];
  private long[] nextCounterCycle = new long[0];
  private final ArrayDeque<long[]> pendingFlows = new ArrayDeque<>();
  private IntBinaryOperator occupancy;
  private long nextFlowId = 1;
  private boolean first = true;
  private boolean finished;

  /**
   * Starts the trace: writes the header and the process's name.
   *
   * @param out where the JSON goes; {@link #finish} flushes but does not close it
   * @param pid the process id of this machine's tracks (one per comparison column)
   * @param processName shown as the process's name (the machine or column label)
   * @param frequencyGHz the machine's clock, to turn cycles into microseconds; > 0
   * @param kindMask the event kinds to receive ({@link EventKind#bit()})
   * @param tlbLevelNames TLB level names by config position, for counters
   * @param operationNames kernel operation id to name ({@code kernel.call} payload c)
   * @param counterIntervalCycles counters are written once per this many cycles per core; > 0
   */
  public ChromeTraceWriter(
      Writer out,
      int pid,
      String processName,
      double frequencyGHz,
      long kindMask,
      List<String> tlbLevelNames,
      IntFunction<String> operationNames,
      long counterIntervalCycles) {
    if (!(frequencyGHz > 0)) {
      throw new IllegalArgumentException("frequencyGHz: " + frequencyGHz + " (expected: > 0)");
    }
    if (counterIntervalCycles <= 0) {
      throw new IllegalArgumentException(
          "counterIntervalCycles: " + counterIntervalCycles + " (expected: > 0)");
    }
    this.out = out;
    this.pid = pid;
    this.frequencyGHz = frequencyGHz;
    this.kindMask = kindMask;
    this.tlbLevelNames = List.copyOf(tlbLevelNames);
    this.operationNames = operationNames;
    this.counterIntervalCycles = counterIntervalCycles;
    write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    line.setLength(0);
    line.append("{\"ph\":\"M\",\"pid\":")
        .append(pid)
        .append(",\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":");
    string(processName);
    line.append("}}");
    emit();
  }

  /**
   * Lets counters read each core's TLB occupancy: {@code occupancy.applyAsInt(core, level)} returns
   * the valid entries of that level now. Without it only misses are counted.
   */
  public void readOccupancyFrom(IntBinaryOperator occupancy) {
    this.occupancy = occupancy;
  }

  @Override
  public long kindMask() {
    return kindMask;
  }

  @Override
  public void onEvent(EventKind kind, int core, long cycle, long a, long b, long c) {
    if (finished) {
      return;
    }
    track(core);
    switch (kind) {
      case KERNEL_CALL -> kernelCall(core, cycle, a, b, (int) c);
      case WALK -> {
        line.setLength(0);
        head("X", "walk", "walk", core, Math.max(0, cycle - c));
        line.append(",\"dur\":");
        micros(Math.max(0, cycle - c), cycle);
        line.append(",\"args\":{\"va\":\"0x").append(Long.toHexString(a)).append('"');
        if (b != -1) {
          line.append(",\"pa\":\"0x").append(Long.toHexString(b)).append('"');
        }
        line.append(",\"cycles\":").append(c).append("}}");
        emit();
      }
      case INVALIDATE -> instant(core, cycle, "invalidate", instruction(c), a, b);
      case BARRIER -> instant(core, cycle, "barrier", instruction(c), -1, -1);
      case FAULT -> instant(core, cycle, "fault", "fault", a, -1);
      case VIOLATION -> instant(core, cycle, "violation", "violation " + violation(c), a, -1);
      case IPI_SEND -> ipiSend(core, cycle, (int) a);
      case IPI_RECEIVE -> ipiReceive(core, cycle, (int) a);
      case TLB_MISS -> {
        if (c >= 0 && c < tlbLevelNames.size()) {
          missesInInterval.get(core)[(int) c]++;
        }
      }
      default -> {
        // tlb.hit, tlb.fill and frame events have no Chrome form: too many to draw.
      }
    }
    lastCycle[core] = Math.max(lastCycle[core], cycle);
    if (cycle >= nextCounterCycle[core]) {
      counters(core, cycle);
      nextCounterCycle[core] = (cycle / counterIntervalCycles + 1) * counterIntervalCycles;
    }
  }

  private void kernelCall(int core, long cycle, long phase, long va, int operation) {
    ArrayDeque<String> open = openCalls.get(core);
    if (phase == 0) {
      String name = operationNames.apply(operation);
      if (name == null) {
        name = "kernel op " + operation;
      }
      open.push(name);
      line.setLength(0);
      head("B", name, "kernel", core, cycle);
      if (va != 0) {
        line.append(",\"args\":{\"va\":\"0x").append(Long.toHexString(va)).append("\"}");
      }
      line.append('}');
      emit();
    } else if (!open.isEmpty()) {
      end(core, cycle, open.pop());
    }
  }

  private void end(int core, long cycle, String name) {
    line.setLength(0);
    head("E", name, "kernel", core, cycle);
    line.append('}');
    emit();
  }

  private void ipiSend(int core, long cycle, int target) {
    long id = nextFlowId++;
    pendingFlows.add(new long[] {core, target, id, cycle});
    line.setLength(0);
    head("X", "ipi.send", "ipi", core, cycle);
    line.append(",\"dur\":0,\"args\":{\"target\":").append(target).append("}}");
    emit();
    line.setLength(0);
    head("s", "ipi", "ipi", core, cycle);
    line.append(",\"id\":").append(id).append('}');
    emit();
  }

  private void ipiReceive(int core, long cycle, int initiator) {
    long id = 0;
    for (var it = pendingFlows.iterator(); it.hasNext(); ) {
      long[] flow = it.next();
      if (flow[0] == initiator && flow[1] == core) {
        id = flow[2];
        it.remove();
        break;
      }
    }
    line.setLength(0);
    head("X", "ipi.receive", "ipi", core, cycle);
    line.append(",\"dur\":0,\"args\":{\"initiator\":").append(initiator).append("}}");
    emit();
    if (id != 0) {
      line.setLength(0);
      head("f", "ipi", "ipi", core, cycle);
      line.append(",\"bp\":\"e\",\"id\":").append(id).append('}');
      emit();
    }
  }

  private void instant(int core, long cycle, String category, String name, long va, long asid) {
    line.setLength(0);
    head("i", name, category, core, cycle);
    line.append(",\"s\":\"t\"");
    if (va != -1 || asid != -1) {
      line.append(",\"args\":{");
      if (va != -1) {
        line.append("\"va\":\"0x").append(Long.toHexString(va)).append('"');
      }
      if (asid != -1) {
        line.append(va != -1 ? "," : "").append("\"asid\":").append(asid);
      }
      line.append('}');
    }
    line.append('}');
    emit();
  }

  private void counters(int core, long cycle) {
    if (tlbLevelNames.isEmpty()) {
      return;
    }
    long[] misses = missesInInterval.get(core);
    counter("tlb misses core " + core, core, cycle, level -> misses[level]);
    java.util.Arrays.fill(misses, 0);
    if (occupancy != null) {
      counter(
          "tlb occupancy core " + core, core, cycle, level -> occupancy.applyAsInt(core, level));
    }
  }

  /** One counter event: a value per TLB level. */
  private void counter(
      String name, int core, long cycle, java.util.function.IntToLongFunction valueOfLevel) {
    line.setLength(0);
    head("C", name, "tlb", core, cycle);
    line.append(",\"args\":{");
    for (int level = 0; level < tlbLevelNames.size(); level++) {
      line.append(level == 0 ? "" : ",");
      string(tlbLevelNames.get(level));
      line.append(':').append(valueOfLevel.applyAsLong(level));
    }
    line.append("}}");
    emit();
  }

  /**
   * Ends the trace: closes every open kernel-call slice at its core's last time, writes the closing
   * bracket and flushes. Idempotent; called on success and on failure alike.
   */
  public void finish() {
    if (finished) {
      return;
    }
    closeOpenSlices();
    finished = true;
    write("\n]}\n");
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Ends the trace of a run that stopped early: closes open slices like {@link #finish}, then
   * writes a global instant event {@code name} at {@code cycle} (or the last event's time, when
   * later) with the cycle and {@code error} as arguments, and the closing bracket. Idempotent with
   * {@link #finish}: only the first call writes.
   *
   * @param name what happened ({@code run interrupted}, {@code run failed})
   * @param error the failure's message, or null
   */
  public void finishStopped(String name, long cycle, String error) {
    if (finished) {
      return;
    }
    closeOpenSlices();
    long at = cycle;
    for (long last : lastCycle) {
      at = Math.max(at, last);
    }
    line.setLength(0);
    head("i", name, "run", 0, at);
    line.append(",\"s\":\"g\",\"args\":{\"cycle\":").append(cycle);
    if (error != null) {
      line.append(",\"error\":");
      string(error);
    }
    line.append("}}");
    emit();
    finish();
  }

  /**
   * The run ended (the trace bus closes every sink, however the run ended): nothing to do here,
   * since only the owner knows whether to {@link #finish} or {@link #finishStopped}.
   */
  @Override
  public void close() {}

  private void closeOpenSlices() {
    for (int core = 0; core < openCalls.size(); core++) {
      ArrayDeque<String> open = openCalls.get(core);
      while (!open.isEmpty()) {
        end(core, lastCycle[core], open.pop());
      }
    }
    // an IPI still on its way when the run stopped: its arrow ends on the target at its last time
    // (or the send, if later), which then is the target's last time: a second IPI to the same
    // target, sent earlier, must not end before the first on that track
    for (long[] flow : pendingFlows) {
      int target = (int) flow[1];
      track(target);
      lastCycle[target] = Math.max(flow[3], lastCycle[target]);
      line.setLength(0);
      head("f", "ipi", "ipi", target, lastCycle[target]);
      line.append(",\"bp\":\"e\",\"id\":").append(flow[2]).append('}');
      emit();
    }
    pendingFlows.clear();
  }

  private void track(int core) {
    while (openCalls.size() <= core) {
      int newCore = openCalls.size();
      openCalls.add(new ArrayDeque<>());
      missesInInterval.add(new long[tlbLevelNames.size()]);
      lastCycle = java.util.Arrays.copyOf(lastCycle, newCore + 1);
      nextCounterCycle = java.util.Arrays.copyOf(nextCounterCycle, newCore + 1);
      line.setLength(0);
      line.append("{\"ph\":\"M\",\"pid\":")
          .append(pid)
          .append(",\"tid\":")
          .append(newCore)
          .append(",\"name\":\"thread_name\",\"args\":{\"name\":\"core ")
          .append(newCore)
          .append("\"}}");
      emit();
      line.setLength(0);
      line.append("{\"ph\":\"M\",\"pid\":")
          .append(pid)
          .append(",\"tid\":")
          .append(newCore)
          .append(",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":")
          .append(newCore)
          .append("}}");
      emit();
    }
  }

  private void head(String phase, String name, String category, int core, long cycle) {
    line.append("{\"ph\":\"").append(phase).append("\",\"name\":");
    string(name);
    line.append(",\"cat\":\"")
        .append(category)
        .append("\",\"pid\":")
        .append(pid)
        .append(",\"tid\":")
        .append(core)
        .append(",\"ts\":");
    micros(0, cycle);
  }

  /** Appends the microseconds between two cycles, to the picosecond. */
  private void micros(long fromCycle, long toCycle) {
    long picos = picos(toCycle) - picos(fromCycle);
    line.append(picos / 1_000_000).append('.');
    String fraction = Long.toString(picos % 1_000_000);
    for (int pad = fraction.length(); pad < 6; pad++) {
      line.append('0');
    }
    line.append(fraction);
  }

  private long picos(long cycle) {
    return Math.round(cycle * 1000.0 / frequencyGHz);
  }

  private void string(String text) {
    JsonStrings.append(line, text);
  }

  private static String instruction(long id) {
    String name = NameTable.INSTRUCTIONS.nameOf(id);
    return name != null ? name : "instruction " + id;
  }

  private static String violation(long ordinal) {
    ViolationKind[] kinds = ViolationKind.values();
    return ordinal >= 0 && ordinal < kinds.length
        ? kinds[(int) ordinal].name()
        : Long.toString(ordinal);
  }

  private void emit() {
    if (!first) {
      write(",\n");
    }
    first = false;
    write(line);
  }

  private void write(CharSequence text) {
    try {
      out.append(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
