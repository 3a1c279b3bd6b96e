package org.mmuemu.core.trace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interns names of one kind as small stable ids, so that an event carries the name in a payload
 * word and a trace writer, which exists before the machine, can print it. One table per kind:
 * {@link #INSTRUCTIONS} for the ISA names of maintenance and barrier instructions ({@code "TLBI
 * VALE1IS"}, {@code "DSB ISH"}, {@code "INVLPG"}), {@link #KERNEL_OPERATIONS} for the operations a
 * {@link EventKind#KERNEL_CALL} event brackets ({@code "vmalloc"}, {@code "munmap"}, {@code
 * "flush_tlb_range"}).
 *
 * <p>The tables are the only state in core shared between runs: a name means the same in every run,
 * and ids are never written out, so runs stay deterministic whatever order they intern names in.
 * Each table has its own lock; looking up a name already interned allocates nothing (its id is a
 * cached small {@code Integer}), so publishing an event does not allocate.
 */
public final class NameTable {
  /** Maintenance and barrier instructions (payload of INVALIDATE, BARRIER events). */
  public static final NameTable INSTRUCTIONS = new NameTable();

  /** Kernel operations (payload of KERNEL_CALL events). */
  public static final NameTable KERNEL_OPERATIONS = new NameTable();

  private final Object lock = new Object();
  private final Map<String, Integer> ids = new HashMap<>();
  private final List<String> names = new ArrayList<>();

  private NameTable() {}

  /** Returns the id of {@code name}, interning it on first use. */
  public int idOf(String name) {
    synchronized (lock) {
      Integer id = ids.get(name);
      if (id == null) {
        id = names.size();
        names.add(name);
        ids.put(name, id);
      }
      return id;
    }
  }

  /** Returns the name of {@code id}, or null for an id never handed out (any payload word). */
  public String nameOf(long id) {
    synchronized (lock) {
      return id >= 0 && id < names.size() ? names.get((int) id) : null;
    }
  }
}
