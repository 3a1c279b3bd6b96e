package org.mmuemu.app.archfixture.cyclic.first;

import org.mmuemu.app.archfixture.cyclic.second.Second;

/** Half of a deliberate package cycle that ArchitectureTest's cycle rule must report. */
public final class First {
  private First() {}

  public static int next(int value) {
    return value > 0 ? Second.previous(value - 1) : 0;
  }
}
