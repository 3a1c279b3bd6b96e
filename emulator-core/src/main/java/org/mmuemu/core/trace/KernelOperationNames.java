package org.mmuemu.core.trace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interns the names of kernel operations ({@code "vmalloc"}, {@code "munmap"},
 * {@code "flush_tlb_range"}) as small stable ids, so that a {@link EventKind#KERNEL_CALL} event
 * carries its operation in a payload word and a trace writer can print the name.
 *
 * <p>One table for the process: a name means the same in every run, and ids are never written
 * out, so runs stay deterministic whatever order they intern names in. Kernel code interns its
 * names once (in static constants), so publishing an event neither locks nor allocates.
 */
public final class KernelOperationNames {
  private static final Object LOCK = new Object();
  private static final Map<String, Integer> IDS = new HashMap<>();
  private static final List<String> NAMES = new ArrayList<>();

  private KernelOperationNames() {}

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
  public static String nameOf(int id) {
    synchronized (LOCK) {
      return id >= 0 && id < NAMES.size() ? NAMES.get(id) : null;
    }
  }
}
