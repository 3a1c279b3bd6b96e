package org.mmuemu.core.mem;

/** What a physical frame currently holds. */
public enum FrameKind {
  FREE,
  DATA,
  PAGE_TABLE,
  KERNEL;

  private static final FrameKind[] VALUES = values();

  static FrameKind of(int ordinal) {
    return VALUES[ordinal];
  }
}
