package org.mmuemu.kernel.uffd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.SwapPte;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.VmaLocking;
import org.mmuemu.kernel.mm.ZeroPfns;

/**
 * userfaultfd in write-protect mode (DOMAIN-FAULTS.md §4; Linux fs/userfaultfd.c, mm/userfaultfd.c
 * {@code mwriteprotect_range}, mm/mprotect.c {@code change_protection}, the uffd-wp parts of
 * mm/memory.c).
 *
 * <ul>
 *   <li>{@link #register}: {@code UFFDIO_API} and {@code UFFDIO_REGISTER} with {@code
 *       UFFDIO_REGISTER_MODE_WP} over a range of anonymous private memory, optionally with {@code
 *       UFFD_FEATURE_WP_UNPOPULATED}.
 *   <li>{@link #writeProtect}: {@code UFFDIO_WRITEPROTECT} as {@code change_protection} through one
 *       mmu_gather under the mmap read lock. Protect sets the uffd-wp bit of each present PTE and
 *       write-protects it ({@code pte_mkuffd_wp} clears the write bit; a writable PTE's flush is
 *       recorded), protects a huge PMD at the PMD level, and, with WP_UNPOPULATED, writes a {@code
 *       PTE_MARKER_UFFD_WP} marker into every empty slot, allocating the page tables down to the
 *       PTE level; without it, empty upper entries end the walk there. Resolve clears the bit and
 *       makes an anonymous page writable at once ({@code MM_CP_TRY_CHANGE_WRITABLE}; the zero page
 *       stays read-only, so a store to it then breaks COW), and drops markers. {@code
 *       tlb_finish_mmu} flushes what was write-protected.
 *   <li>{@link #handleFault}: a store to a uffd-wp page, or any access to a marker slot (which maps
 *       the zero page for a read, a new page for a store, either keeping the protection), is a
 *       userfault: the thread queues a message, drops the mmap lock and sleeps until a monitor
 *       thread ({@link #readMessage}, {@link #resolve}) unprotects the page and wakes it.
 * </ul>
 *
 * <p>Invariants checked as they are established, reported as {@code UFFD_WP}: UW1, a uffd-wp PTE is
 * never writable (after every protect and every fault in a registered range); UW2, once protect
 * returned no core running the mm holds a writable TLB entry for a protected page; UW3, no marker
 * survives a zap of an anonymous range ({@link #checkZapped}).
 *
 * <p>{@code // MODEL:} the uffd-wp bit of a present PTE is kept here, beside the page table (per mm
 * and page, with the frame and its allocation it applied to, so a zapped and refaulted PTE does not
 * inherit it), instead of in a software bit of the descriptor; VMAs carry no {@code VM_UFFD_WP}
 * (registrations are ranges kept here); one userfaultfd context per registration; no {@code
 * WP_ASYNC}, no missing or minor mode, no fork events; a store that hits a marker slot maps the
 * protected page and delivers the userfault in the same fault (Linux maps it, returns, and takes a
 * second fault). An ioctl's entry and exit cost one exception entry ({@code faultEntryCycles});
 * reading page-table entries costs nothing (writes cost {@code pteWriteCycles}). Confined to the
 * simulation thread.
 */
public final class Userfaultfd {
  private static final KernelOperation OP_WRITEPROTECT =
      KernelOperation.named("uffdio_writeprotect");
  private static final KernelOperation OP_REGISTER = KernelOperation.named("uffdio_register");
  private static final long PAGE_BYTES = 1L << PhysicalMemory.FRAME_SHIFT;
  private static final long UW2_CHECK_MAX_PAGES = 1L << 16;

  /** Opens an mmu_gather on an mm for a core ({@code tlb_gather_mmu}). */
  @FunctionalInterface
  public interface GatherFactory {
    MmuGather begin(int core, Mm mm);
  }

  /** A registered range of {@code mm}; {@code wpUnpopulated}: the context's feature bit. */
  private record Registration(Mm mm, long startVa, long endVa, boolean wpUnpopulated) {
    boolean covers(Mm other, long va) {
      return mm == other
          && Long.compareUnsigned(va, startVa) >= 0
          && Long.compareUnsigned(va, endVa) < 0;
    }
  }

  /** The uffd-wp bit of one present leaf: set while the leaf maps this frame allocation. */
  private record WpBit(long pfn, long allocationStamp) {}

  /** A userfault message ({@code UFFD_EVENT_PAGEFAULT} with {@code UFFD_PAGEFAULT_FLAG_WP}). */
  public record Message(int faultingCore, Mm mm, long pageVa) {}

  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final ArchUserPtes userPtes;
  private final GatherFactory gathers;
  private final ZeroPfns zeroPfns;
  private final VmaLocking vmaLocking;
  private final PageTableFormat format;
  private final List<Registration> registrations = new ArrayList<>();
  private final Map<Mm, Map<Long, WpBit>> wpBits = new HashMap<>();
  private final ArrayDeque<Message> messages = new ArrayDeque<>();
  private final int[] running;
  private long protectedPtes;
  private long protectedPmds;
  private long resolvedPtes;
  private long markersInstalled;
  private long markersDropped;
  private long tablesAllocated;
  private long userfaults;
  private long markerFaults;

  public Userfaultfd(
      Machine machine,
      KernelCosts costs,
      PageTableEditor tables,
      ArchUserPtes userPtes,
      ZeroPfns zeroPfns,
      VmaLocking vmaLocking,
      GatherFactory gathers) {
    this.userPtes = userPtes;
    this.vmaLocking = vmaLocking;
    this.machine = machine;
    this.costs = costs;
    this.tables = tables;
    this.zeroPfns = zeroPfns;
    this.gathers = gathers;
    this.format = machine.format();
    this.running = new int[machine.coreCount()];
  }

  /**
   * {@code UFFDIO_API} then {@code UFFDIO_REGISTER(MODE_WP)} of {@code [startVa, endVa)}, which
   * must lie in one anonymous private VMA of {@code mm}.
   *
   * @throws IllegalArgumentException otherwise
   */
  public void register(int core, Mm mm, long startVa, long endVa, boolean wpUnpopulated) {
    long start = OP_REGISTER.begin(machine, core, startVa);
    machine.charge(core, costs.faultEntryCycles()); // MODEL: a syscall's entry and exit
    mm.mmapLock().downWrite(machine, core, costs.lockCycles()); // vma flags change: VM_UFFD_WP
    Vma vma = mm.findVma(startVa, new int[1]);
    if (vma == null
        || vma.mapsFile()
        || vma.shared()
        || Long.compareUnsigned(endVa, vma.endVa()) > 0) {
      mm.mmapLock().upWrite(machine, core);
      throw new IllegalArgumentException(
          "userfaultfd: [0x"
              + Long.toHexString(startVa)
              + ", 0x"
              + Long.toHexString(endVa)
              + ") is not within one anonymous private VMA");
    }
    registrations.add(new Registration(mm, startVa, endVa, wpUnpopulated));
    mm.mmapLock().upWrite(machine, core);
    OP_REGISTER.end(machine, core, startVa, start);
  }

  private Registration registration(Mm mm, long va) {
    for (Registration r : registrations) {
      if (r.covers(mm, va)) {
        return r;
      }
    }
    return null;
  }

  /**
   * {@code UFFDIO_WRITEPROTECT} over {@code [startVa, endVa)}: protect ({@code
   * UFFDIO_WRITEPROTECT_MODE_WP}) or resolve (mode 0, which also wakes nothing here: {@link
   * #resolve} wakes the thread of a message).
   *
   * @throws IllegalArgumentException when the range is not registered
   */
  public void writeProtect(int core, Mm mm, long startVa, long endVa, boolean protect) {
    long start = OP_WRITEPROTECT.begin(machine, core, startVa);
    machine.charge(core, costs.faultEntryCycles()); // MODEL: a syscall's entry and exit
    mm.mmapLock().downRead(machine, core, costs.lockCycles());
    Registration reg = registration(mm, startVa);
    if (reg == null || Long.compareUnsigned(endVa, reg.endVa()) > 0) {
      mm.mmapLock().upRead(machine, core);
      throw new IllegalArgumentException(
          "UFFDIO_WRITEPROTECT: [0x"
              + Long.toHexString(startVa)
              + ", 0x"
              + Long.toHexString(endVa)
              + ") is not registered in write-protect mode");
    }
    boolean markers = protect && reg.wpUnpopulated();
    long tablesBefore = tables.tablesAllocated();
    MmuGather tlb = gathers.begin(core, mm);
    changeProtection(tlb, mm, startVa, endVa, protect, markers);
    tlb.finish();
    tablesAllocated += tables.tablesAllocated() - tablesBefore;
    if (protect) {
      checkNoWritableTlbEntry(core, mm, startVa, endVa);
    }
    mm.mmapLock().upRead(machine, core);
    OP_WRITEPROTECT.end(machine, core, startVa, start);
  }

  // change_protection: the page-table walk, by level
  private void changeProtection(
      MmuGather tlb, Mm mm, long startVa, long endVa, boolean protect, boolean markers) {
    int leafLevel = format.levels() - 1;
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
      int level = leafLevelOrHole(mm, va);
      if (level < 0) {
        int holeLevel = -level - 1;
        long next = nextBoundary(va, format.levelShift(holeLevel));
        long holeEnd = Long.compareUnsigned(next, endVa) < 0 && next != 0 ? next : endVa;
        if (markers) {
          installMarkers(tlb.core(), mm, va, holeEnd); // pgtable_populate_needed
        }
        va = holeEnd;
      } else if (level < leafLevel) {
        changeHugePmd(tlb, mm, va & -(1L << format.levelShift(level)), level, protect);
        va = nextBoundary(va, format.levelShift(level));
      } else {
        long tableEnd = nextBoundary(va, format.levelShift(leafLevel - 1));
        va =
            changePteRange(
                tlb,
                mm,
                va,
                Long.compareUnsigned(tableEnd, endVa) < 0 ? tableEnd : endVa,
                protect,
                markers);
      }
      if (va == 0) {
        break;
      }
    }
  }

  /**
   * The level of the leaf or PTE table slot for {@code va}: the last level when a PTE table holds
   * it, a higher level for a block; {@code -(level + 1)} when the entry at {@code level} is empty.
   */
  private int leafLevelOrHole(Mm mm, long va) {
    long tablePfn = mm.rootPfn();
    for (int level = 0; level < format.levels() - 1; level++) {
      long descriptor = machine.memory().readDescriptor(tablePfn, format.index(va, level));
      if (!format.isValid(descriptor, level)) {
        return -(level + 1);
      }
      if (format.isLeaf(descriptor, level)) {
        return level;
      }
      tablePfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    }
    return format.levels() - 1;
  }

  private static long nextBoundary(long va, int shift) {
    return (va & -(1L << shift)) + (1L << shift);
  }

  // change_pte_range under the PTE table's lock; returns the end of what it covered
  private long changePteRange(
      MmuGather tlb, Mm mm, long startVa, long endVa, boolean protect, boolean markers) {
    int core = tlb.core();
    int leafLevel = format.levels() - 1;
    mm.pteLock(startVa).acquire(machine, core, costs.lockCycles());
    for (long va = startVa; Long.compareUnsigned(va, endVa) < 0; va += PAGE_BYTES) {
      long entry = tables.leafEntry(mm.rootPfn(), va);
      if (format.isValid(entry, leafLevel)) {
        changePresent(tlb, mm, va, entry, leafLevel, protect);
      } else if (entry == 0 && markers) {
        tables.writeLeafEntry(mm.rootPfn(), va, SwapPte.marker(SwapPte.MARKER_UFFD_WP), core);
        markersInstalled++;
      } else if (!protect && SwapPte.isMarker(entry)) {
        tables.writeLeafEntry(mm.rootPfn(), va, 0L, core);
        markersDropped++;
      }
    }
    mm.pteLock(startVa).release(machine, core);
    return endVa;
  }

  // pte_mkuffd_wp / pte_clear_uffd_wp on a present leaf (a PTE, or a huge PMD)
  private void changePresent(
      MmuGather tlb, Mm mm, long va, long descriptor, int level, boolean protect) {
    int core = tlb.core();
    int flags = format.flags(descriptor, level);
    long pfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    Map<Long, WpBit> bits = wpBits.computeIfAbsent(mm, key -> new HashMap<>());
    if (level == format.levels() - 1) {
      userPtes.unfold(core, mm, va); // ptep_modify_prot_start on a contiguous block
      flags = format.flags(tables.leafDescriptor(mm.rootPfn(), va), level);
    }
    if (protect) {
      bits.put(va, new WpBit(pfn, machine.memory().allocationStamp(pfn)));
      // the software bit is set whether or not the write bit changes: one RMW either way
      tables.updateFlags(mm.rootPfn(), va, flags & ~PteFlags.WRITE, core);
      if ((flags & PteFlags.WRITE) != 0) {
        tlb.recordCleared(va, 1L << format.levelShift(level), level); // pte_needs_flush
      }
      if (level == format.levels() - 1) {
        protectedPtes++;
      }
      checkNotWritable(core, mm, va);
    } else if (bits.remove(va) != null) {
      // MM_CP_TRY_CHANGE_WRITABLE: an exclusive anonymous page becomes writable at once; the zero
      // page is no anonymous page (can_change_pte_writable), only its bit goes
      int writable = zeroPfns.isZero(pfn) ? 0 : PteFlags.WRITE | PteFlags.DIRTY;
      tables.updateFlags(mm.rootPfn(), va, flags | writable | PteFlags.ACCESSED, core);
      resolvedPtes++;
    }
  }

  // change_huge_pmd: an anonymous THP is protected as one entry, not split
  private void changeHugePmd(MmuGather tlb, Mm mm, long blockVa, int level, boolean protect) {
    long descriptor = tables.leafDescriptor(mm.rootPfn(), blockVa);
    mm.pteLock(blockVa).acquire(machine, tlb.core(), costs.lockCycles());
    changePresent(tlb, mm, blockVa, descriptor, level, protect);
    mm.pteLock(blockVa).release(machine, tlb.core());
    if (protect) {
      protectedPmds++;
    }
  }

  // markers into every empty slot of [startVa, endVa), tables allocated on the way
  private void installMarkers(int core, Mm mm, long startVa, long endVa) {
    for (long va = startVa; Long.compareUnsigned(va, endVa) < 0; va += PAGE_BYTES) {
      if (tables.leafEntry(mm.rootPfn(), va) == 0) {
        tables.writeLeafEntry(mm.rootPfn(), va, SwapPte.marker(SwapPte.MARKER_UFFD_WP), core);
        markersInstalled++;
      }
    }
  }

  /** Whether {@code mm}'s leaf mapping {@code va} carries the uffd-wp bit now. */
  public boolean isWriteProtected(Mm mm, long va) {
    return wpBitOf(mm, va) != null;
  }

  // the bit of the leaf mapping va (a PTE, or the huge PMD covering it), if that leaf still maps
  // the frame allocation it was set on
  private Long wpBitOf(Mm mm, long va) {
    Map<Long, WpBit> bits = wpBits.get(mm);
    if (bits == null || bits.isEmpty()) {
      return null;
    }
    int level = tables.leafLevel(mm.rootPfn(), va);
    if (level < 0) {
      return null;
    }
    long leafVa = va & -(1L << format.levelShift(level));
    WpBit bit = bits.get(leafVa);
    if (bit == null) {
      return null;
    }
    long descriptor = tables.leafDescriptor(mm.rootPfn(), leafVa);
    long pfn = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
    if (pfn != bit.pfn() || machine.memory().allocationStamp(pfn) != bit.allocationStamp()) {
      bits.remove(leafVa); // the leaf was zapped and refaulted: the bit went with the old PTE
      return null;
    }
    return leafVa;
  }

  /**
   * Whether this fault is one {@link #handleFault} handles: a store to a uffd-wp page, or an access
   * to a marker slot, in a registered range. Reads only.
   */
  public boolean isUserfault(Mm mm, long va, AccessKind kind, boolean permission) {
    if (registrations.isEmpty() || registration(mm, va) == null) {
      return false;
    }
    long pageVa = va & -PAGE_BYTES;
    if (permission) {
      return kind == AccessKind.WRITE && wpBitOf(mm, pageVa) != null;
    }
    return SwapPte.isMarker(tables.leafEntry(mm.rootPfn(), pageVa));
  }

  /**
   * The fault path's userfaultfd part ({@code do_wp_page} / {@code handle_pte_marker} → {@code
   * handle_userfault}), with {@code mm}'s mmap lock held for read and no PTE lock: a store to a
   * uffd-wp page sleeps until a monitor resolves it; an access to a marker slot maps a new page
   * that keeps the protection (and a store then sleeps as well).
   *
   * @return whether this was a userfault, now resolved (the access retries); false: not one
   */
  public boolean handleFault(int core, Mm mm, long va, AccessKind kind, boolean permission) {
    if (registrations.isEmpty() || registration(mm, va) == null) {
      return false;
    }
    long pageVa = va & -PAGE_BYTES;
    if (permission) {
      Long leafVa = kind == AccessKind.WRITE ? wpBitOf(mm, pageVa) : null;
      if (leafVa == null) {
        return false;
      }
      deliver(core, mm, leafVa);
      return true;
    }
    long entry = tables.leafEntry(mm.rootPfn(), pageVa);
    if (!SwapPte.isMarker(entry)) {
      return false;
    }
    // do_pte_missing with the marker's protection carried into the new PTE: do_anonymous_page maps
    // the zero page for a read
    mm.pteLock(pageVa).acquire(machine, core, costs.lockCycles());
    if (tables.leafEntry(mm.rootPfn(), pageVa) == entry) {
      Vma vma = mm.findVma(pageVa, new int[1]);
      long pfn = zeroPfns.zeroPfn();
      if (kind == AccessKind.WRITE) {
        vmaLocking.anonVmaPrepare(core, mm, vma); // vmf_anon_prepare
        machine.charge(core, costs.pageAllocCycles() + costs.pageZeroCycles());
        pfn = machine.memory().allocate(FrameKind.DATA);
      }
      int flags = (vma.flags() | PteFlags.USER | PteFlags.ACCESSED) & ~PteFlags.WRITE;
      tables.map(
          mm.rootPfn(),
          pageVa,
          pfn << PhysicalMemory.FRAME_SHIFT,
          format.levels() - 1,
          flags,
          core);
      wpBits
          .computeIfAbsent(mm, key -> new HashMap<>())
          .put(pageVa, new WpBit(pfn, machine.memory().allocationStamp(pfn)));
      markerFaults++;
    }
    mm.pteLock(pageVa).release(machine, core);
    if (kind == AccessKind.WRITE && wpBitOf(mm, pageVa) != null) {
      deliver(core, mm, pageVa);
    }
    return true;
  }

  // handle_userfault: queue the message, drop the mmap lock, sleep until resolved
  private void deliver(int core, Mm mm, long pageVa) {
    if (!machine.scheduling()) {
      throw new IllegalStateException(
          "userfault at 0x" + Long.toHexString(pageVa) + " outside a run: no monitor can wake it");
    }
    userfaults++;
    messages.add(new Message(core, mm, pageVa));
    mm.mmapLock().upRead(machine, core);
    machine.block(core);
    mm.mmapLock().downRead(machine, core, costs.lockCycles());
  }

  /** The monitor's read of the userfaultfd: the oldest message, or null when none is queued. */
  public Message readMessage() {
    return messages.poll();
  }

  /**
   * The monitor resolves {@code message} on {@code core}: {@code UFFDIO_WRITEPROTECT} mode 0 over
   * its page, which wakes the faulting thread.
   */
  public void resolve(int core, Message message) {
    long size = 1L << format.levelShift(tables.leafLevel(message.mm().rootPfn(), message.pageVa()));
    writeProtect(core, message.mm(), message.pageVa(), message.pageVa() + size, false);
    machine.wake(message.faultingCore(), machine.now(core));
  }

  /**
   * UW1 after a fault: the leaf mapping {@code va} in {@code mm}, if it carries the uffd-wp bit, is
   * not writable. Costs no simulated time.
   */
  public void checkNotWritable(int core, Mm mm, long va) {
    Long leafVa = wpBitOf(mm, va);
    if (leafVa == null) {
      return;
    }
    int level = tables.leafLevel(mm.rootPfn(), leafVa);
    long descriptor = tables.leafDescriptor(mm.rootPfn(), leafVa);
    if ((format.flags(descriptor, level) & PteFlags.WRITE) != 0) {
      report(
          core,
          leafVa,
          descriptor,
          level,
          "UW1: the uffd-wp PTE for va 0x" + Long.toHexString(leafVa) + " is writable");
    }
  }

  // UW2: after the protect's tlb_finish_mmu, no TLB of a core running mm may write a protected page
  private void checkNoWritableTlbEntry(int core, Mm mm, long startVa, long endVa) {
    Map<Long, WpBit> bits = wpBits.get(mm);
    if (bits == null || (endVa - startVa) >>> PhysicalMemory.FRAME_SHIFT > UW2_CHECK_MAX_PAGES) {
      return; // MODEL: skipped for very large ranges to bound host time
    }
    machine.interleave(core, "check:uffd_wp"); // judge the other cores once they reach this time
    int cores = 0;
    for (int other = 0; other < machine.coreCount(); other++) {
      if (!machine.isIdle(other)
          && machine.core(other).context().userRootPa()
              == mm.rootPfn() << PhysicalMemory.FRAME_SHIFT) {
        running[cores++] = other;
      }
    }
    for (int i = 0; i < cores; i++) {
      org.mmuemu.core.machine.Core c = machine.core(running[i]);
      int asid = c.context().asid();
      for (long va = startVa; Long.compareUnsigned(va, endVa) < 0; va += PAGE_BYTES) {
        for (org.mmuemu.core.tlb.SetAssociativeTlb tlb : c.tlbLevels()) {
          int slot = tlb.probe(va, asid);
          if (slot >= 0 && (tlb.flagsOf(slot) & PteFlags.WRITE) != 0 && wpBitOf(mm, va) != null) {
            report(
                running[i],
                va,
                tlb.translate(slot, va),
                -1,
                "UW2: after UFFDIO_WRITEPROTECT"
                    + " returned on core "
                    + core
                    + ", "
                    + tlb.name()
                    + " of core "
                    + running[i]
                    + " still holds a writable entry for the protected va 0x"
                    + Long.toHexString(va));
            break;
          }
        }
      }
    }
  }

  /**
   * UW3 after a zap of {@code [startVa, endVa)} in {@code mm} (munmap, MADV_DONTNEED): no uffd-wp
   * marker is left in an anonymous slot. The uffd-wp bits of the zapped PTEs went with them (a
   * zero-page PTE refaulted there maps the same frame, so its bit is dropped here, not found stale
   * later). Costs no simulated time.
   */
  public void checkZapped(int core, Mm mm, long startVa, long endVa) {
    Map<Long, WpBit> bits = wpBits.get(mm);
    if (bits != null) {
      bits.keySet()
          .removeIf(
              va -> Long.compareUnsigned(va, startVa) >= 0 && Long.compareUnsigned(va, endVa) < 0);
    }
    for (Registration r : registrations) {
      if (r.mm() != mm) {
        continue;
      }
      long from = Long.compareUnsigned(startVa, r.startVa()) > 0 ? startVa : r.startVa();
      long to = Long.compareUnsigned(endVa, r.endVa()) < 0 ? endVa : r.endVa();
      for (long va = from; Long.compareUnsigned(va, to) < 0; va += PAGE_BYTES) {
        if (SwapPte.isMarker(tables.leafEntry(mm.rootPfn(), va))) {
          report(
              core,
              va,
              -1,
              -1,
              "UW3: a uffd-wp marker survived the zap of the anonymous va 0x"
                  + Long.toHexString(va));
          return;
        }
      }
    }
  }

  private void report(int core, long va, long descriptorOrPa, int level, String detail) {
    long pa = level >= 0 ? format.outputPa(descriptorOrPa, level) : descriptorOrPa;
    machine
        .oracle()
        .report(
            ViolationKind.UFFD_WP,
            core,
            machine.now(core),
            va,
            pa,
            pa < 0 ? -1 : pa >>> PhysicalMemory.FRAME_SHIFT,
            detail);
  }

  /**
   * Whether a registered range of {@code mm} overlaps {@code [startVa, endVa)} ({@code
   * userfaultfd_armed}): such memory is faulted in with base pages only.
   */
  public boolean armed(Mm mm, long startVa, long endVa) {
    for (Registration registration : registrations) {
      if (registration.mm() == mm
          && Long.compareUnsigned(registration.startVa(), endVa) < 0
          && Long.compareUnsigned(startVa, registration.endVa()) < 0) {
        return true;
      }
    }
    return false;
  }

  /** The userfaultfd counters, once a range was registered. */
  public Map<String, Object> counters() {
    Map<String, Object> c = new LinkedHashMap<>();
    if (registrations.isEmpty()) {
      return c;
    }
    c.put("uffdWpProtectedPtes", protectedPtes);
    c.put("uffdWpProtectedPmds", protectedPmds);
    c.put("uffdWpResolved", resolvedPtes);
    c.put("uffdWpMarkersInstalled", markersInstalled);
    c.put("uffdWpMarkersDropped", markersDropped);
    c.put("uffdWpTablesAllocated", tablesAllocated);
    c.put("uffdWpFaults", userfaults);
    c.put("uffdWpMarkerFaults", markerFaults);
    return c;
  }
}
