package org.mmuemu.kernel.workload.testvmalloc;

/** The last areas the workers freed, with the purges counted before each free. */
final class FreedAreas {
  // as many as a PDE cache has entries
  private final long[] vas = new long[32];
  private final long[] purgesBefore = new long[32];
  private long added;

  void add(long va, long purges) {
    int slot = (int) (added++ % vas.length);
    vas[slot] = va;
    purgesBefore[slot] = purges;
  }

  /**
   * Passes each area recorded after number {@code walkedSeq} that a purge has flushed (fewer purges
   * before its free than {@code purges}) to {@code walk}, in order.
   *
   * @return the number of the last one passed
   */
  long walkFlushed(long walkedSeq, long purges, java.util.function.LongConsumer walk) {
    long seq = Math.max(walkedSeq, added - vas.length);
    while (seq < added && purgesBefore[(int) (seq % vas.length)] < purges) {
      walk.accept(vas[(int) (seq % vas.length)]);
      seq++;
    }
    return seq;
  }
}
