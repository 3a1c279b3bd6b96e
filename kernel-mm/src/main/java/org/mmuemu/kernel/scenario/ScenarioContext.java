package org.mmuemu.kernel.scenario;

import java.util.HashMap;
import java.util.Map;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;

/**
 * What a scenario's steps name while it runs: vmalloc and vm_map_ram areas, kernel frames and
 * processes, by the names the file gives them; and the narrative the run writes.
 */
public final class ScenarioContext {
  /** Where a scenario process's anonymous mapping starts (a user address both ISAs map). */
  public static final long PROCESS_VA = 0x10_0000_0000L;

  /**
   * A kernel area a step mapped: its first address and size, and whether it was freed since (a step
   * may still load from it or walk it, as a stale pointer would).
   */
  record Area(long va, long sizeBytes, long pages, boolean freed) {}

  private final Kernel kernel;
  private final Narrative narrative;
  private final Map<String, Area> areas = new HashMap<>();
  private final Map<String, long[]> frames = new HashMap<>();
  private final Map<String, Mm> processes = new HashMap<>();

  ScenarioContext(Kernel kernel, Narrative narrative) {
    this.kernel = kernel;
    this.narrative = narrative;
  }

  Kernel kernel() {
    return kernel;
  }

  Machine machine() {
    return kernel.machine();
  }

  Narrative narrative() {
    return narrative;
  }

  Area area(String name) {
    return areas.get(name);
  }

  void putArea(String name, Area area) {
    areas.put(name, area);
  }

  /** Marks the area freed and returns it as it was. */
  Area freeArea(String name) {
    Area area = areas.get(name);
    areas.put(name, new Area(area.va(), area.sizeBytes(), area.pages(), true));
    return area;
  }

  long[] frames(String name) {
    return frames.get(name);
  }

  void putFrames(String name, long[] pfns) {
    frames.put(name, pfns);
  }

  long[] removeFrames(String name) {
    return frames.remove(name);
  }

  Mm process(String name) {
    return processes.get(name);
  }

  void putProcess(String name, Mm mm) {
    processes.put(name, mm);
  }
}
