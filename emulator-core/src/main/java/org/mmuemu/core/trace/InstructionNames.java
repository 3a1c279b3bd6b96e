package org.mmuemu.core.trace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interns the ISA names of maintenance and barrier instructions ({@code "TLBI VALE1IS"},
 * {@code "DSB ISH"}, {@code "INVLPG"}) as small ids, so that an event can carry the instruction
 * in a payload word and a trace writer, which exists before the machine, can print its name.
 *
 * <p>One table for the process: a name means the same in every run, and ids are never written
 * out, so runs stay deterministic whatever order they intern names in. The only state in core
 * shared between runs; guarded by its own lock, taken only when an invalidation or barrier
 * event is published to a sink that wants it.
 */
public final class InstructionNames {
  private static final Object LOCK = new Object();
  private static final Map<String, Integer> IDS = new HashMap<>();
  private static final List<String> NAMES = new ArrayList<>();

  private InstructionNames() {}

  /** Returns the id of {@code name}, interning it on first use. */
  public static int idOf(String name) {
    synchronized (LOCK) {
      Integer id = IDS.get(name);
      if (id == null) {
        id = NAMES.size();
        NAMES.add(name);
        IDS.put(name, id);
      }
      return id;
    }
  }

  /** Returns the name of {@code id}, or null for an id never handed out. */
  public static String nameOf(long id) {
    synchronized (LOCK) {
      return id >= 0 && id < NAMES.size() ? NAMES.get((int) id) : null;
    }
  }
}
