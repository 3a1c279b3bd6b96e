package org.mmuemu.kernel.lock;

/**
 * The cores waiting for a lock, in arrival order, each with an int tag (a reader-writer semaphore's
 * "wants to write"): a growable ring, allocation-free once it holds the run's largest queue.
 */
final class WaitQueue {
  private int[] entries = new int[8];
  private int head;
  private int count;

  boolean isEmpty() {
    return count == 0;
  }

  void add(int entry) {
    if (count == entries.length) {
      int[] grown = new int[entries.length * 2];
      for (int i = 0; i < count; i++) {
        grown[i] = entries[(head + i) % entries.length];
      }
      entries = grown;
      head = 0;
    }
    entries[(head + count) % entries.length] = entry;
    count++;
  }

  /** The oldest entry; the queue must not be empty. */
  int peek() {
    return entries[head];
  }

  /** Removes and returns the oldest entry; the queue must not be empty. */
  int poll() {
    int entry = entries[head];
    head = (head + 1) % entries.length;
    count--;
    return entry;
  }
}
