package org.mmuemu.core.machine;

/**
 * Which core's step is running (the owner of frame events, kernel work and descriptor writes) and
 * which cores have no more steps: the state the scheduler loop, interrupt delivery and the
 * frame-history recorder share. Confined to the simulation thread.
 */
final class CoreActivity {
  private final boolean[] idle;
  private int actingCore;

  CoreActivity(int cores) {
    this.idle = new boolean[cores];
  }

  int actingCore() {
    return actingCore;
  }

  void act(int core) {
    actingCore = core;
  }

  boolean isIdle(int core) {
    return idle[core];
  }

  void setIdle(int core, boolean isIdle) {
    idle[core] = isIdle;
  }
}
