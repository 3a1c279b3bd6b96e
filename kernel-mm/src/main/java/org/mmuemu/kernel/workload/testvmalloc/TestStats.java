package org.mmuemu.kernel.workload.testvmalloc;

/** Per worker and test: the kernel's summary counters. */
final class TestStats {
  final TestVmallocCase testCase;
  long passed;
  long failed;
  long xfailed;
  long repeats;
  long loops;
  long cycles;

  TestStats(TestVmallocCase testCase, long loops) {
    this.testCase = testCase;
    this.loops = loops;
  }
}
