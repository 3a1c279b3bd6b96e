package org.mmuemu.kernel.numa;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.ArchUserPtes;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.oracle.RangeFlushOracle;
import org.mmuemu.kernel.rmap.AnonPages;

/**
 * Automatic NUMA balancing (DOMAIN-FAULTS.md §2; Linux kernel/sched/fair.c {@code task_tick_numa},
 * {@code task_numa_work}, mm/mprotect.c {@code change_prot_numa}, mm/memory.c {@code
 * do_numa_page}): tasks periodically make their mm's present PTEs PROT_NONE, a chunk at a time
 * through an mmu_gather (so each chunk costs the arch's TLB flush: arm64 broadcast TLBIs and {@code
 * DSB ISH}, x86 {@code INVLPG} and IPIs, whole-mm above the ceilings), and the next access to such
 * a page takes a NUMA hinting fault that restores the PTE, or migrates the page to the faulting
 * CPU's node. Which VMAs a task scans is the {@code numaScanFilter} variant: 6.4's PID filter
 * ({@code vma_is_accessed}) or every VMA (before 6.4).
 *
 * <p>Off until a workload {@linkplain #enable enables} it (Linux turns it on for machines of more
 * than one node, or by sysctl); a task takes part once {@linkplain #startTask started}.
 *
 * <p>Counters ({@code kernel} section, when they happen): {@code numaScans} (passes that ran),
 * {@code numaScanPtesScanned}, {@code numaPteUpdates} ({@code NUMA_PTE_UPDATES}), {@code
 * numaScanFlushes} (mmu_gather flushes of the scan), {@code numaScanVmasSkippedByPid}, {@code
 * numaScanSeq} (full passes over the address space), {@code numaHintFaults}, {@code
 * numaHintFaultsLocal}, {@code numaPagesMigrated}.
 *
 * <p>{@code // MODEL:} the scan period stays at {@code scan_period_min} ({@code
 * update_task_scan_period}'s adaptation, numa groups and task placement are not modelled); a task's
 * runtime is its core's elapsed cycles since it started; the scanner takes {@code mmap_lock} for
 * read instead of trying it; only anonymous private VMAs are scanned (file mappings are left alone)
 * and only base pages (huge PMDs are skipped); each PTE examined costs one descriptor access
 * ({@code pteWriteCycles}). The PID filter is 6.4's: bit {@code pid % 64}, no later relaxations (no
 * forced scan of one skipped VMA, no partially scanned VMA finished regardless of PID, no
 * starvation override). Hinting faults migrate a plain anonymous page (mapped once, unshared,
 * unpinned) to the faulting CPU's node whenever it lies on another one: no two-stage {@code
 * last_cpupid} filter, no memory policy other than the default. Confined to the simulation thread.
 */
public final class NumaBalancing {
  private static final KernelOperation OP_TASK_NUMA_WORK = KernelOperation.named("task_numa_work");
  private static final long PAGE_BYTES = 1L << PhysicalMemory.FRAME_SHIFT;

  /** The virtual-scan cap: a pass looks at no more than this many times its scan size. */
  static final int VIRTUAL_SCAN_FACTOR = 8;

  /** {@code VMA_PID_RESET_PERIOD} in scan delays. */
  static final int PID_RESET_DELAYS = 4;

  /** Linux charges the scan's own runtime 32 times to the task's next scan ({@code node_stamp}). */
  static final int OVERHEAD_FACTOR = 32;

  private final Machine machine;
  private final PageTableEditor tables;
  private final KernelCosts costs;
  private final ArchTlbPolicy tlbPolicy;
  private final ArchUserPtes userPtes;
  private final AnonPages anonPages;
  private final ZeroPfns zeroPfns;
  private final RangeFlushOracle flushOracle;
  private final BiFunction<Integer, Mm, MmuGather> gatherBegin;
  private final boolean pidFilter;
  private final long scanSizePages;
  private final long tunableDelayCycles;
  private final long tunablePeriodCycles;
  private final NumaTask[] tasks;
  private final Map<Mm, MmScanState> mmStates = new IdentityHashMap<>();
  private boolean enabled;
  private long scanDelayCycles;
  private long scanPeriodCycles;

  /**
   * @param gatherBegin starts an mmu_gather on an mm for a core ({@code tlb_gather_mmu})
   */
  public NumaBalancing(
      Machine machine,
      KernelConfig config,
      PageTableEditor tables,
      ArchTlbPolicy tlbPolicy,
      ArchUserPtes userPtes,
      AnonPages anonPages,
      ZeroPfns zeroPfns,
      RangeFlushOracle flushOracle,
      BiFunction<Integer, Mm, MmuGather> gatherBegin) {
    this.machine = machine;
    this.tables = tables;
    this.costs = config.costs();
    this.tlbPolicy = tlbPolicy;
    this.userPtes = userPtes;
    this.anonPages = anonPages;
    this.zeroPfns = zeroPfns;
    this.flushOracle = flushOracle;
    this.gatherBegin = gatherBegin;
    this.pidFilter =
        config.variants().numaScanFilter() == KernelVariants.NumaScanFilter.ACCESSED_PIDS;
    this.scanSizePages = (config.tunables().numaBalancingScanSizeMb() << 20) / PAGE_BYTES;
    double cyclesPerMs = machine.spec().frequencyGHz() * 1e6;
    this.tunableDelayCycles =
        Math.round(config.tunables().numaBalancingScanDelayMs() * cyclesPerMs);
    this.tunablePeriodCycles =
        Math.round(config.tunables().numaBalancingScanPeriodMinMs() * cyclesPerMs);
    this.tasks = new NumaTask[machine.coreCount()];
  }

  /** Turns NUMA balancing on with the kernel tunables' scan delay and period. */
  public void enable() {
    enable(tunableDelayCycles, tunablePeriodCycles);
  }

  /**
   * Turns NUMA balancing on with its times given in cycles instead of the tunables' milliseconds (a
   * simulated run is far shorter than Linux's one-second period).
   */
  public void enable(long delayCycles, long periodCycles) {
    if (delayCycles < 1 || periodCycles < 1) {
      throw new IllegalArgumentException(
          "delay " + delayCycles + ", period " + periodCycles + " (expected: at least 1 cycle)");
    }
    this.enabled = true;
    this.scanDelayCycles = delayCycles;
    this.scanPeriodCycles = periodCycles;
  }

  /**
   * The task {@code pid} of {@code mm} starts on {@code core} and takes part in NUMA balancing; the
   * mm's first scan comes one scan delay after its first task started.
   */
  public void startTask(int core, Mm mm, int pid) {
    long now = machine.now(core);
    mmStates.computeIfAbsent(mm, key -> new MmScanState(now + scanDelayCycles));
    tasks[core] = new NumaTask(mm, pid, now);
  }

  /** The task on {@code core} stops taking part (it exits). */
  public void stopTask(int core) {
    tasks[core] = null;
  }

  /**
   * The scheduler tick of the task on {@code core} ({@code task_tick_numa}): once the task has run
   * a scan period past its last stamp, and the mm's next scan is due, it scans ({@code
   * task_numa_work}, run here as on the task's return to user mode).
   */
  public void tick(int core) {
    NumaTask task = tasks[core];
    if (!enabled || task == null) {
      return;
    }
    long runtime = machine.now(core) - task.startCycle;
    if (runtime <= task.nodeStamp + scanPeriodCycles) {
      return;
    }
    task.nodeStamp += scanPeriodCycles;
    if (machine.now(core) >= mmStates.get(task.mm).nextScanCycle) {
      taskNumaWork(core, task);
    }
  }

  // task_numa_work
  private void taskNumaWork(int core, NumaTask task) {
    MmScanState mmState = mmStates.get(task.mm);
    long start = OP_TASK_NUMA_WORK.begin(machine, core, mmState.scanOffsetVa);
    // only one task per mm and period scans: the winner moves the mm's next scan on
    mmState.nextScanCycle = machine.now(core) + scanPeriodCycles;
    Mm mm = task.mm;
    mm.mmapLock().downRead(machine, core, costs.lockCycles());
    count("numaScans", 1);
    long pages = scanSizePages;
    long virtPages = VIRTUAL_SCAN_FACTOR * scanSizePages;
    long resetPeriod = PID_RESET_DELAYS * scanDelayCycles;
    long offset = mmState.scanOffsetVa;
    boolean stopped = false;
    long passStart = machine.now(core); // a new VMA's delay counts from the pass's start
    for (Vma vma : mm.vmas()) {
      if (Long.compareUnsigned(vma.endVa(), offset) <= 0 || !scannable(vma)) {
        continue;
      }
      long now = machine.now(core);
      VmaNumabState state = mmState.stateOf(vma, passStart, scanDelayCycles, resetPeriod);
      if (mmState.scanSeq > 0 && state.tooNewToScan(now)) {
        continue; // the scan delay applies to every new VMA after the mm's first pass
      }
      state.ageIfDue(now, resetPeriod);
      if (!vmaIsAccessed(state, mmState.scanSeq, task.pid)) {
        count("numaScanVmasSkippedByPid", 1);
        continue;
      }
      long chunkStart = Long.compareUnsigned(offset, vma.startVa()) > 0 ? offset : vma.startVa();
      while (Long.compareUnsigned(chunkStart, vma.endVa()) < 0) {
        long chunkEnd = chunkEnd(chunkStart, pages, vma.endVa());
        long chunkPages = (chunkEnd - chunkStart) / PAGE_BYTES;
        if (changeProtNuma(core, mm, chunkStart, chunkEnd) > 0) {
          pages -= chunkPages;
        }
        virtPages -= chunkPages;
        chunkStart = chunkEnd;
        if (pages <= 0 || virtPages <= 0) {
          stopped = true;
          break;
        }
      }
      if (stopped) {
        offset = chunkStart;
        break;
      }
    }
    if (stopped) {
      mmState.scanOffsetVa = offset;
    } else {
      // reset_ptenuma_scan: the pass reached the end of the address space
      mmState.scanOffsetVa = 0;
      mmState.scanSeq++;
      count("numaScanSeq", 1);
    }
    mm.mmapLock().upRead(machine, core);
    long spent = machine.now(core) - start;
    task.nodeStamp += OVERHEAD_FACTOR * spent;
    OP_TASK_NUMA_WORK.end(machine, core, mmState.scanOffsetVa, start);
  }

  /**
   * The end of one scan chunk from {@code startVa} with {@code pages} of budget left: rounded up to
   * a 2 MiB boundary ({@code HPAGE_SIZE}), at most the VMA's end.
   */
  static long chunkEnd(long startVa, long pages, long vmaEndVa) {
    long hugePage = 1L << 21;
    long end = (startVa + pages * PAGE_BYTES + hugePage - 1) & -hugePage;
    return Long.compareUnsigned(end, vmaEndVa) < 0 ? end : vmaEndVa;
  }

  /**
   * Linux {@code vma_is_accessed} as introduced in 6.4: every VMA during the mm's first two full
   * passes, afterwards only one the task took a hinting fault in (by its PID bit); without the
   * filter (before 6.4), every VMA.
   */
  boolean vmaIsAccessed(VmaNumabState state, long mmScanSeq, int pid) {
    return !pidFilter || mmScanSeq < 2 || state.accessedBy(pid);
  }

  // anonymous memory only (every anonymous VMA of the model is accessible)
  private static boolean scannable(Vma vma) {
    return !vma.mapsFile();
  }

  /**
   * Linux {@code change_prot_numa} over {@code [startVa, endVa)}: every present base-page PTE but
   * the zero page's (no fault on it could usefully place anything) becomes PROT_NONE under its
   * table's lock, recorded in one mmu_gather (on x86 only PTEs the hardware marked accessed, {@code
   * pte_needs_flush}); {@code tlb_finish_mmu} flushes.
   *
   * @return the PTEs changed
   */
  private long changeProtNuma(int core, Mm mm, long startVa, long endVa) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long tableSpan = 1L << format.levelShift(leafLevel - 1);
    MmuGather tlb = gatherBegin.apply(core, mm);
    long changed = 0;
    long scanned = 0;
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
      long tableEnd = (va & -tableSpan) + tableSpan;
      long stop = Long.compareUnsigned(tableEnd, endVa) < 0 ? tableEnd : endVa;
      long tablePfn = tables.tableAt(mm.rootPfn(), va, leafLevel);
      if (tablePfn >= 0) {
        mm.pteLock(va).acquire(machine, core, costs.lockCycles());
        for (long pageVa = va; Long.compareUnsigned(pageVa, stop) < 0; pageVa += PAGE_BYTES) {
          int index = format.index(pageVa, leafLevel);
          long descriptor = memory.readDescriptor(tablePfn, index);
          machine.charge(core, costs.pteWriteCycles());
          scanned++;
          if (!format.isValid(descriptor, leafLevel)
              || zeroPfns.isZero(
                  format.outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT)) {
            continue; // none, already PROT_NONE, or the zero page
          }
          userPtes.unfold(core, mm, pageVa); // ptep_modify_prot_start on a contiguous block
          descriptor = memory.readDescriptor(tablePfn, index);
          // ptep_modify_prot_start and _commit: a read-and-clear, then the PROT_NONE write
          memory.writeDescriptor(tablePfn, index, format.protNone(descriptor, leafLevel));
          machine.charge(core, 2 * costs.pteWriteCycles());
          machine.recordMapping(
              format.outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT, pageVa, false);
          // pte_needs_flush says yes on both ISAs: arm64's to any change of a valid entry, x86's
          // to the Present bit going (whatever the Accessed bit says: reclaim clears it without a
          // flush, so a TLB may still hold an entry whose PTE reads "not accessed")
          tlb.recordCleared(pageVa, PAGE_BYTES, leafLevel);
          changed++;
        }
        mm.pteLock(va).release(machine, core);
      }
      va = stop;
    }
    long flushesBefore = tlb.flushes();
    tlb.finish();
    count("numaScanFlushes", tlb.flushes() - flushesBefore);
    count("numaScanPtesScanned", scanned);
    count("numaPteUpdates", changed);
    if (changed > 0) {
      flushOracle.checkRangeFlushed(
          core, mm, startVa, endVa, "change_prot_numa", tlb.finishStartedCycle());
    }
    return changed;
  }

  /**
   * Whether {@code pageVa} of {@code mm} holds a PROT_NONE entry the scan wrote, so a fault there
   * is a NUMA hinting fault.
   */
  public boolean isHintingFault(Mm mm, long pageVa) {
    if (!enabled) {
      return false;
    }
    int leafLevel = machine.format().levels() - 1;
    long tablePfn = tables.tableAt(mm.rootPfn(), pageVa, leafLevel);
    return tablePfn >= 0
        && machine
            .format()
            .isProtNone(
                machine
                    .memory()
                    .readDescriptor(tablePfn, machine.format().index(pageVa, leafLevel)),
                leafLevel);
  }

  /**
   * Linux {@code do_numa_page} for {@link #isHintingFault a hinting fault} at {@code pageVa} in
   * {@code vma} on {@code core}, under the PTE table's lock the caller holds: the faulting task's
   * PID bit is recorded in the VMA, then the page is migrated to the CPU's node if it lies on
   * another (a new page there, the old PTE cleared, flushed if a scan's flush may still be pending
   * on the mm, the copy mapped, the old page freed), else the PTE is restored, young. Neither
   * restoring nor mapping the copy needs a flush: the PROT_NONE entry was invalid.
   */
  public void doNumaPage(int core, Mm mm, Vma vma, long pageVa, AccessKind kind) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long tablePfn = tables.tableAt(mm.rootPfn(), pageVa, leafLevel);
    int index = format.index(pageVa, leafLevel);
    long descriptor = memory.readDescriptor(tablePfn, index);
    long pfn = format.outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT;
    count("numaHintFaults", 1);
    int cpuNode = machine.nodeOfCore(core);
    int pageNode = memory.nodeOf(pfn);
    if (pageNode == cpuNode) {
      count("numaHintFaultsLocal", 1);
    }
    NumaTask task = tasks[core];
    MmScanState mmState = mmStates.get(mm);
    if (task != null && task.mm == mm && mmState != null) {
      long now = machine.now(core);
      mmState
          .stateOf(vma, now, scanDelayCycles, PID_RESET_DELAYS * scanDelayCycles)
          .recordAccess(task.pid);
    }
    long restored = format.restoreProtNone(descriptor, leafLevel);
    int flags =
        format.flags(restored, leafLevel)
            | PteFlags.ACCESSED
            | (kind == AccessKind.WRITE && vma.writable() ? PteFlags.DIRTY : 0);
    if (pageNode != cpuNode && anonPages.migratable(pfn)) {
      migrate(core, mm, tablePfn, index, pageVa, pfn, cpuNode, flags);
      return;
    }
    memory.writeDescriptor(tablePfn, index, format.withFlags(restored, leafLevel, flags));
    machine.charge(core, 2 * costs.pteWriteCycles());
    machine.recordMapping(pfn, pageVa, true);
    userPtes.tryFold(core, mm, pageVa); // ptep_modify_prot_commit's set_pte
  }

  // migrate_misplaced_folio of a base page, with its migration entry folded into a clear
  private void migrate(
      int core, Mm mm, long tablePfn, int index, long pageVa, long oldPfn, int node, int flags) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    machine.charge(core, costs.pageAllocCycles() + costs.pageCopyCycles());
    long newPfn = memory.allocateOnNode(FrameKind.DATA, node);
    memory.writeDescriptor(tablePfn, index, 0L);
    machine.charge(core, costs.pteWriteCycles());
    if (mm.tlbFlushPending() > 0) {
      // ptep_clear_flush: a PROT_NONE entry counts as accessible while a scan's gather is still
      // open on the mm (pte_accessible), as a CPU may cache the translation it had until that
      // gather's flush
      tlbPolicy.flushTlbRange(
          core, mm, pageVa, pageVa + PAGE_BYTES, PhysicalMemory.FRAME_SHIFT, true);
      count("numaMigrationFlushes", 1);
    }
    memory.writeDescriptor(
        tablePfn, index, format.encodeLeaf(newPfn << PhysicalMemory.FRAME_SHIFT, leafLevel, flags));
    machine.charge(core, costs.pteWriteCycles());
    machine.recordMapping(newPfn, pageVa, true);
    memory.free(oldPfn);
    machine.charge(core, costs.pageFreeCycles());
    count("numaPagesMigrated", 1);
  }

  private void count(String name, long amount) {
    if (amount != 0) {
      machine.stats().addKernelCounter(name, amount);
    }
  }

  /** A task taking part: its mm, its PID and its scan stamp ({@code node_stamp}). */
  private static final class NumaTask {
    final Mm mm;
    final int pid;
    final long startCycle;
    long nodeStamp;

    NumaTask(Mm mm, int pid, long startCycle) {
      this.mm = mm;
      this.pid = pid;
      this.startCycle = startCycle;
    }
  }

  /**
   * Per mm: {@code numa_next_scan}, {@code numa_scan_offset}, {@code numa_scan_seq}, VMA states.
   */
  private static final class MmScanState {
    long nextScanCycle;
    long scanOffsetVa;
    long scanSeq;
    final TreeMap<Long, VmaNumabState> vmaStates = new TreeMap<>(Long::compareUnsigned);

    MmScanState(long firstScanCycle) {
      this.nextScanCycle = firstScanCycle;
    }

    // the VMA's numab_state, made on first sight (a VMA changed since then gets a new one)
    VmaNumabState stateOf(Vma vma, long now, long delayCycles, long resetPeriodCycles) {
      VmaNumabState state = vmaStates.get(vma.startVa());
      if (state == null || state.endVa() != vma.endVa()) {
        state = new VmaNumabState(vma.endVa(), now, delayCycles, resetPeriodCycles);
        vmaStates.put(vma.startVa(), state);
      }
      return state;
    }
  }
}
