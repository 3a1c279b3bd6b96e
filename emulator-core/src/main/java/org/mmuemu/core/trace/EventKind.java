package org.mmuemu.core.trace;

import java.util.Locale;

/**
 * The kinds of events the machine and the kernel publish. Each has a dotted name shared by the
 * trace writers and the control port ({@code tlb.hit}, {@code walk}).
 *
 * <p>The meaning of the three payload words of {@link TraceSink#onEvent} is given per kind.
 */
public enum EventKind {
  /** va, pa, level index. */
  TLB_HIT("tlb.hit", "va", "pa", "level"),
  /** va, 0, level index. */
  TLB_MISS("tlb.miss", "va", null, "level"),
  /** va, pa, walk cycles (pa is -1 when the walk faulted). */
  WALK("walk", "va", "pa", "cycles"),
  /** va, pa, level index. */
  TLB_FILL("tlb.fill", "va", "pa", "level"),
  /** va (or -1), asid (or -1), instruction id ({@link NameTable#INSTRUCTIONS}; traced by name). */
  INVALIDATE("invalidate", "va", "asid", "instruction"),
  /** 0, 0, instruction id ({@link NameTable#INSTRUCTIONS}; traced by name: "DSB ISH", "ISB"). */
  BARRIER("barrier", null, null, "instruction"),
  /** target core, 0, 0. */
  IPI_SEND("ipi.send", "target", null, null),
  /** initiator core, 0, 0. */
  IPI_RECEIVE("ipi.receive", "initiator", null, null),
  /** va, access kind ordinal, fault level. */
  FAULT("fault", "va", "access", "tableLevel"),
  /**
   * A kernel operation begins or ends on a core (properly nested per core): phase (0 begin, 1 end),
   * va or 0, operation id ({@link NameTable#KERNEL_OPERATIONS}).
   */
  KERNEL_CALL("kernel.call", "phase", "va", "operation"),
  /** va, pa, violation kind ordinal. */
  VIOLATION("violation", "va", "pa", "violation"),
  /** pfn, allocation stamp, frame kind ordinal. */
  FRAME_ALLOC("frame.alloc", "pfn", "stamp", "frameKind"),
  /** pfn, 0, previous frame kind ordinal. */
  FRAME_FREE("frame.free", "pfn", null, "frameKind");

  private final String dottedName;
  private final String[] payloadNames;

  EventKind(String dottedName, String a, String b, String c) {
    this.dottedName = dottedName;
    this.payloadNames = new String[] {a, b, c};
  }

  /**
   * Returns the name of payload word {@code index} (0 to 2) in traces, or null when the word is
   * unused. Words named {@code va}, {@code pa} and {@code pfn} are addresses.
   */
  public String payloadName(int index) {
    return payloadNames[index];
  }

  /** The name used in traces and on the control port. */
  public String dottedName() {
    return dottedName;
  }

  /** The bit of this kind in a subscription mask. */
  public long bit() {
    return 1L << ordinal();
  }

  /**
   * Parses a dotted name.
   *
   * @throws IllegalArgumentException listing the known names
   */
  public static EventKind fromDottedName(String name) {
    for (EventKind kind : values()) {
      if (kind.dottedName.equals(name.toLowerCase(Locale.ROOT))) {
        return kind;
      }
    }
    StringBuilder known = new StringBuilder();
    for (EventKind kind : values()) {
      known.append(known.length() == 0 ? "" : ", ").append(kind.dottedName);
    }
    throw new IllegalArgumentException("event kind: " + name + " (expected one of: " + known + ")");
  }
}
