package org.mmuemu.app.archfixture.cyclic.second;

import org.mmuemu.app.archfixture.cyclic.first.First;

/** The other half of the deliberate package cycle. */
public final class Second {
  private Second() {}

  public static int previous(int value) {
    return First.next(value);
  }
}
