package org.mmuemu.kernel.oracle;

import java.util.Arrays;
import java.util.function.LongUnaryOperator;
import org.mmuemu.core.machine.Core;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.tlb.SetAssociativeTlb;

/**
 * The {@code UNFLUSHED_ALIAS} check of kernel mappings, kept from ground truth rather than from the
 * allocator's own bookkeeping: every kernel page whose entry was cleared is remembered, with the
 * frame it mapped, until a completed kernel-range flush covers it.
 *
 * <p>When a flush of {@code [startVa, endVa)} completes, and when {@code vm_unmap_aliases} returns
 * (which promises that no unflushed alias remains anywhere), every TLB entry of every core is
 * examined: an entry whose frame is one a remembered page in the promised range mapped, and which
 * still translates that page, translates it to a frame the page tables no longer map there; it is
 * reported once per page, with the frame's history. Examining the entries rather than probing each
 * page keeps the host cost at the TLBs' size plus the pages checked. Nothing is counted as a lookup
 * and no replacement state changes.
 *
 * <p>The remembered pages live in a primitive open-addressing table (no boxing), each slot's page
 * VA, frame and cycle side by side so an insert touches one cache line. Confined to the simulation
 * thread.
 */
public final class AliasOracle {
  private static final long EMPTY = 0L; // page VAs of the kernel half are never 0
  private static final int LONGS_PER_SLOT = 3;
  private static final int PAGE_VA = 0;
  private static final int PFN = 1;
  private static final int UNMAPPED_AT_CYCLE = 2;
  private static final int INITIAL_SLOTS = 1024;

  private final Machine machine;
  private final LongUnaryOperator kernelTranslate;
  private long[] table = new long[INITIAL_SLOTS * LONGS_PER_SLOT];
  // The table's twin, which a check's removals rebuild the survivors into (then the two swap): a
  // fresh table per check, at the size a purge's backlog grew it to, was most of a vfree-heavy
  // run's allocation.
  private long[] spare = new long[0];
  private int slots = INITIAL_SLOTS;
  private int size;
  // scratch of one check: (pfn << 32 | index) sorted, and the checked pages' VAs by index
  private long[] sortedKeys = new long[0];
  private long[] checkedVas = new long[0];
  private boolean[] reported = new boolean[0];
  private long checks;

  /**
   * @param kernelTranslate software walk of the kernel tables: the pa a va maps to, or -1
   */
  public AliasOracle(Machine machine, LongUnaryOperator kernelTranslate) {
    this.machine = machine;
    this.kernelTranslate = kernelTranslate;
  }

  /**
   * Remembers that the kernel entry of {@code pageVa}, which mapped {@code pfn}, was cleared and
   * not yet flushed.
   */
  public void unmapped(long pageVa, long pfn) {
    if ((size + 1) * 2 > slots) {
      rehash(slots * 2);
    }
    if (insert(table, slots, pageVa, pfn, machine.now(machine.actingCore()))) {
      size++;
    }
  }

  private static boolean insert(long[] table, int slots, long pageVa, long pfn, long cycle) {
    int mask = slots - 1;
    int i = mix(pageVa) & mask;
    while (table[i * LONGS_PER_SLOT + PAGE_VA] != EMPTY) {
      if (table[i * LONGS_PER_SLOT + PAGE_VA] == pageVa) {
        break;
      }
      i = (i + 1) & mask;
    }
    int at = i * LONGS_PER_SLOT;
    boolean added = table[at + PAGE_VA] == EMPTY;
    table[at + PAGE_VA] = pageVa;
    table[at + PFN] = pfn;
    table[at + UNMAPPED_AT_CYCLE] = cycle;
    return added;
  }

  private static int mix(long va) {
    long z = (va >>> 12) * 0x9E3779B97F4A7C15L;
    return (int) (z ^ (z >>> 32));
  }

  private void rehash(int capacitySlots) {
    long[] old = table;
    table = new long[capacitySlots * LONGS_PER_SLOT];
    slots = capacitySlots;
    reinsertLive(old);
  }

  private void rebuildInPlace() {
    long[] old = table;
    if (spare.length == old.length) {
      Arrays.fill(spare, EMPTY);
    } else {
      spare = new long[old.length];
    }
    table = spare;
    reinsertLive(old);
    spare = old;
  }

  // Inserts every remembered page of old into table (empty, of the current slot count).
  private void reinsertLive(long[] old) {
    for (int at = 0; at < old.length; at += LONGS_PER_SLOT) {
      if (old[at + PAGE_VA] != EMPTY) {
        insert(table, slots, old[at + PAGE_VA], old[at + PFN], old[at + UNMAPPED_AT_CYCLE]);
      }
    }
  }

  /** Pages unmapped and not yet covered by a completed flush. */
  public int unflushedPages() {
    return size;
  }

  /** Pages checked so far. */
  public long checks() {
    return checks;
  }

  /**
   * A kernel-range flush of {@code [startVa, endVa)} that began at {@code flushStartCycle}
   * completed on {@code core}: check and forget the pages unmapped by then. Pages other cores
   * unmapped while the flush was on its way are the next flush's (their areas joined the lazy list
   * after this purge took it).
   */
  public void flushCompleted(
      int core, long startVa, long endVa, String what, long flushStartCycle) {
    check(core, startVa, endVa, what, true, flushStartCycle);
  }

  /**
   * A call promised that no unflushed kernel alias of a page unmapped by {@code sinceCycle} remains
   * anywhere (vm_unmap_aliases): check them all.
   */
  public void promiseNoAliases(int core, String what, long sinceCycle) {
    check(core, 0L, -1L, what, false, sinceCycle);
  }

  private void check(
      int core, long startVa, long endVa, String what, boolean forget, long unmappedBy) {
    if (size == 0) {
      return;
    }
    machine.interleave(
        core, "check:aliases"); // judge the other cores once they have reached this time
    int n = 0;
    long[] keys = sortedKeys.length >= size ? sortedKeys : new long[size];
    long[] vas = checkedVas.length >= size ? checkedVas : new long[size];
    boolean removedAny = false;
    for (int at = 0; at < table.length; at += LONGS_PER_SLOT) {
      long va = table[at + PAGE_VA];
      if (va == EMPTY
          || Long.compareUnsigned(va, startVa) < 0
          || Long.compareUnsigned(va, endVa) >= 0
          || table[at + UNMAPPED_AT_CYCLE] > unmappedBy) {
        continue;
      }
      vas[n] = va;
      keys[n] = table[at + PFN] << 32 | n;
      n++;
      if (forget) {
        table[at + PAGE_VA] = EMPTY;
        removedAny = true;
      }
    }
    sortedKeys = keys;
    checkedVas = vas;
    if (removedAny) {
      size -= n;
      rebuildInPlace(); // open addressing: rebuild the probe chains after removals
    }
    if (n == 0) {
      return;
    }
    checks += n;
    Arrays.sort(keys, 0, n);
    if (reported.length < n) {
      reported = new boolean[keys.length];
    } else {
      Arrays.fill(reported, 0, n, false);
    }
    for (int other = 0; other < machine.coreCount(); other++) {
      Core c = machine.core(other);
      for (SetAssociativeTlb tlb : c.tlbLevels()) {
        for (int slot = 0; slot < tlb.capacity(); slot++) {
          if (!tlb.isValid(slot)) {
            continue;
          }
          long firstPfn = tlb.pfnOf(slot);
          long frames = 1L << (tlb.pageShiftOf(slot) - PhysicalMemory.FRAME_SHIFT);
          int at = lowerBound(keys, n, firstPfn);
          while (at < n && (keys[at] >>> 32) < firstPfn + frames) {
            int index = (int) keys[at];
            if (!reported[index] && reportIfStale(core, other, tlb, slot, vas[index], what)) {
              reported[index] = true;
            }
            at++;
          }
        }
      }
    }
  }

  private static int lowerBound(long[] keys, int n, long pfn) {
    int low = 0;
    int high = n;
    while (low < high) {
      int middle = (low + high) >>> 1;
      if ((keys[middle] >>> 32) < pfn) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  private boolean reportIfStale(
      int core, int other, SetAssociativeTlb tlb, int slot, long pageVa, String what) {
    int asid = tlb.isGlobal(slot) ? machine.core(other).context().asid() : tlb.asidOf(slot);
    if (tlb.probe(pageVa, asid) != slot) {
      return false; // this entry translates some other address to the frame
    }
    long pa = tlb.translate(slot, pageVa);
    long mappedPa = kernelTranslate.applyAsLong(pageVa);
    if (mappedPa >= 0 && (mappedPa & -4096L) == (pa & -4096L)) {
      return false;
    }
    long pfn = pa >>> PhysicalMemory.FRAME_SHIFT;
    machine
        .oracle()
        .report(
            ViolationKind.UNFLUSHED_ALIAS,
            core,
            machine.now(core),
            pageVa,
            pa,
            pfn,
            "after "
                + what
                + ", "
                + tlb.name()
                + " of core "
                + other
                + " still translates kernel va 0x"
                + Long.toHexString(pageVa)
                + " to frame 0x"
                + Long.toHexString(pfn)
                + (mappedPa < 0
                    ? ", which the page tables no longer map there"
                    : ", which is not the mapped frame"));
    return true;
  }
}
