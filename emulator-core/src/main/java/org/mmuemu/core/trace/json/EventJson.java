package org.mmuemu.core.trace.json;

import java.util.List;
import java.util.Locale;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.trace.EventKind;
import org.mmuemu.core.trace.NameTable;

/**
 * Renders one event as a JSON object, the form shared by the JSON-lines trace writer and the
 * control port: {@code
 * {"cycle":120,"core":0,"kind":"walk","va":"0x7f001000","pa":"0x2000","cycles":83}}.
 *
 * <p>Addresses ({@code va}, {@code pa}, {@code pfn}) are hex strings, since JSON numbers lose
 * precision past 2^53 and kernel addresses use all 64 bits; -1 means "none" and is left out.
 * Enumerated words become their names. Stateless.
 */
public final class EventJson {
  private static final AccessKind[] ACCESS_KINDS = AccessKind.values();
  private static final InvalidationScope[] SCOPES = InvalidationScope.values();
  private static final ViolationKind[] VIOLATIONS = ViolationKind.values();
  private static final FrameKind[] FRAME_KINDS = FrameKind.values();

  private EventJson() {}

  /**
   * Appends the event's JSON object (no trailing newline) to {@code out}.
   *
   * @param tlbLevelNames the machine's TLB level names, by config position
   */
  public static void append(
      StringBuilder out,
      EventKind kind,
      int core,
      long cycle,
      long a,
      long b,
      long c,
      List<String> tlbLevelNames) {
    out.append("{\"cycle\":")
        .append(cycle)
        .append(",\"core\":")
        .append(core)
        .append(",\"kind\":\"")
        .append(kind.dottedName())
        .append('"');
    long[] words = {a, b, c};
    for (int i = 0; i < 3; i++) {
      String name = kind.payloadName(i);
      if (name == null) {
        continue;
      }
      long value = words[i];
      switch (name) {
        case "va", "pa", "pfn" -> {
          if (value != -1) {
            out.append(",\"")
                .append(name)
                .append("\":\"0x")
                .append(Long.toHexString(value))
                .append('"');
          }
        }
        case "level" ->
            appendName(
                out,
                name,
                value >= 0 && value < tlbLevelNames.size()
                    ? tlbLevelNames.get((int) value)
                    : Long.toString(value));
        case "access" -> appendName(out, name, ordinalName(ACCESS_KINDS, value));
        case "scope" -> appendName(out, name, ordinalName(SCOPES, value));
        case "instruction" -> {
          String instruction = NameTable.INSTRUCTIONS.nameOf(value);
          appendName(out, name, instruction != null ? instruction : Long.toString(value));
        }
        case "violation" -> appendName(out, name, ordinalName(VIOLATIONS, value));
        case "phase" ->
            appendName(out, name, value == 0 ? "begin" : value == 1 ? "end" : Long.toString(value));
        case "operation" -> {
          String operation = NameTable.KERNEL_OPERATIONS.nameOf(value);
          appendName(out, name, operation != null ? operation : Long.toString(value));
        }
        case "frameKind" -> appendName(out, name, ordinalName(FRAME_KINDS, value));
        case "asid" -> {
          if (value != -1) {
            out.append(",\"asid\":").append(value);
          }
        }
        default -> out.append(",\"").append(name).append("\":").append(value);
      }
    }
    out.append('}');
  }

  private static void appendName(StringBuilder out, String name, String value) {
    out.append(",\"").append(name).append("\":\"").append(value).append('"');
  }

  private static String ordinalName(Enum<?>[] values, long ordinal) {
    return ordinal >= 0 && ordinal < values.length
        ? values[(int) ordinal].name().toLowerCase(Locale.ROOT)
        : Long.toString(ordinal);
  }
}
