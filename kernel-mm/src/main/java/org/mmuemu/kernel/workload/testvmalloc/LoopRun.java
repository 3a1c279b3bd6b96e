package org.mmuemu.kernel.workload.testvmalloc;

/** A test whose body is {@code loops} iterations that each stop the test on failure. */
abstract class LoopRun extends TestRun {
  private final long loops;
  private long done;

  LoopRun(long loops) {
    this.loops = loops;
  }

  abstract boolean iteration(int core);

  @Override
  boolean step(int core) {
    if (!iteration(core)) {
      failed = true;
      return false;
    }
    return ++done < loops;
  }
}
