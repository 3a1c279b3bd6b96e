package org.mmuemu.core.mem;

/** Told of every frame allocation and free, to keep histories for violation reports. */
public interface FrameListener {
  void frameAllocated(long pfn, FrameKind kind, long allocationStamp);

  void frameFreed(long pfn, FrameKind previousKind);
}
