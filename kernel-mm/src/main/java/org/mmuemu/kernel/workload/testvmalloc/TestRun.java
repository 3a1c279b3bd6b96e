package org.mmuemu.kernel.workload.testvmalloc;

/** One repeat of one test: a few kernel calls per step. */
abstract class TestRun {
  boolean failed;

  /**
   * @return whether more steps remain
   */
  abstract boolean step(int core);
}
