package org.mmuemu.kernel.testkit;

import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.vmalloc.PreemptionHook;

/**
 * Runs other cores' work once, when {@code core}'s zap has dropped a PTE table's lock ({@link
 * Kernel#ZAP_PTE_UNLOCKED}) and before its gather flushed: the window of the teardown races
 * (arm64's {@code tlb_end_vma} flush and every {@code tlb_finish_mmu} come after it). The acting
 * core is {@code core} again when the race returns.
 */
public final class MidZapRace implements PreemptionHook {
  private final Kernel kernel;
  private final int core;
  private final String point;
  private final Runnable race;
  private boolean ran;

  private MidZapRace(Kernel kernel, int core, String point, Runnable race) {
    this.kernel = kernel;
    this.core = core;
    this.point = point;
    this.race = race;
  }

  /** Installs the race on {@code kernel}; it runs at {@code core}'s first unlocked zap point. */
  public static MidZapRace install(Kernel kernel, int core, Runnable race) {
    return install(kernel, core, Kernel.ZAP_PTE_UNLOCKED, race);
  }

  /** Installs the race on {@code kernel}; it runs when {@code core} first reaches {@code point}. */
  public static MidZapRace install(Kernel kernel, int core, String point, Runnable race) {
    MidZapRace hook = new MidZapRace(kernel, core, point, race);
    kernel.setPreemptionHook(hook);
    return hook;
  }

  @Override
  public void reached(String reachedPoint, int reachingCore) {
    if (ran || reachingCore != core || !reachedPoint.equals(point)) {
      return;
    }
    ran = true;
    race.run();
    kernel.machine().actOn(core);
  }

  /** Whether the race has run. */
  public boolean ran() {
    return ran;
  }
}
