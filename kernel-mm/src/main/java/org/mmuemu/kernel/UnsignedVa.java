package org.mmuemu.kernel;

/** Unsigned comparisons of virtual addresses (kernel addresses use the top bit). */
final class UnsignedVa {
  private UnsignedVa() {}

  static long max(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }

  static long min(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0 ? a : b;
  }
}
