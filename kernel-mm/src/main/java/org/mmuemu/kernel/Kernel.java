package org.mmuemu.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.FaultHandler;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.arch.registry.LinuxArchRegistry;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.ReverseMap;
import org.mmuemu.kernel.vmalloc.Vmalloc;
import org.mmuemu.kernel.vmalloc.VmallocConfig;
import org.mmuemu.kernel.vmalloc.VmallocContext;

/**
 * The kernel model of one run: processes and their page tables, which mm each core runs, the
 * page-fault path (demand paging of anonymous memory, file pages through the page cache), and
 * the teardown paths through mmu_gather ({@link #munmap}, {@link #madviseDontneed},
 * {@link #exitMmap}, {@link #oomReap}; see docs/mm.md).
 *
 * <h3>The fault path</h3>
 * A fault pays the entry cost, then the VMA lookup (per node visited). A translation fault in
 * a VMA allocates a frame, zeroes it and maps it (allocating missing tables); the entry is
 * written accessed, and dirty when the fault was a write, so the first access needs no second
 * fault. A permission fault on a writable VMA upgrades the leaf to writable and dirty (for a
 * file page, it also marks the page dirty: write notification). An
 * address outside every VMA, or a write to a read-only VMA, is a segmentation fault: the
 * access is abandoned and counted.
 *
 * <p>Confined to the simulation thread.
 */
public final class Kernel implements FaultHandler {
  private static final KernelOperation OP_MMAP = KernelOperation.named("mmap");
  private static final KernelOperation OP_MUNMAP = KernelOperation.named("munmap");
  private static final KernelOperation OP_MADVISE = KernelOperation.named("madvise");
  private static final KernelOperation OP_EXIT_MMAP = KernelOperation.named("exit_mmap");
  private static final KernelOperation OP_OOM_REAP = KernelOperation.named("oom_reap");
  private static final KernelOperation OP_PAGEFAULT = KernelOperation.named("pageFault");
  private final Machine machine;
  private final KernelConfig config;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final LinuxArch arch;
  private final org.mmuemu.kernel.arch.ArchTlbPolicy tlbPolicy;
  private final List<Mm> mms = new ArrayList<>();
  private final List<Mm> exitedMms = new ArrayList<>();
  private final PageCache pageCache;
  private final ReverseMap rmap = new ReverseMap();
  private final boolean delayedRmap;
  private final boolean nestedFlush;
  private long fileFaults;
  private long reservedUserRootPfn = -1;
  private org.mmuemu.kernel.vmalloc.PreemptionHook preemptionHook = org.mmuemu.kernel.vmalloc.PreemptionHook.NONE;

  /**
   * Preemption point after {@code zap_pte_range} dropped a PTE table's lock, with its gather
   * still open: other CPUs may run here (writeback, another zap, stores through their TLBs).
   */
  public static final String ZAP_PTE_UNLOCKED = "zap_pte_range:unlocked";
  private long fileWriteNotifyFaults;
  private long faultAroundPages;
  private final Mm[] currentMm;
  private final long kernelRootPfn;
  private final boolean kernelSharesUserRoot;
  private Vmalloc vmalloc;
  private final int[] probes = new int[1];
  private long pageFaults;
  private long permissionFaults;
  private long segfaults;
  private long dataPagesAllocated;
  private long pagesFreed;
  private boolean speculating;

  /** Boots the kernel on {@code machine}: allocates the kernel's root table and installs the fault handler. */
  public Kernel(Machine machine, KernelConfig config) {
    this.machine = machine;
    this.config = config;
    this.costs = config.costs();
    this.tables = new PageTableEditor(machine, costs);
    this.pageCache = new PageCache(machine);
    this.delayedRmap = config.variants().rmapRemoval() == KernelVariants.RmapRemoval.DELAYED;
    this.nestedFlush = config.variants().madviseFlushBatching() == KernelVariants.MadviseFlushBatching.FLUSH_NESTED;
    this.currentMm = new Mm[machine.coreCount()];
    machine.actOn(0);
    this.kernelRootPfn = tables.allocateTable(0);
    for (int core = 0; core < machine.coreCount(); core++) {
      machine.core(core).context().setKernelRoot(kernelRootPfn << PhysicalMemory.FRAME_SHIFT);
    }
    this.kernelSharesUserRoot = probeSharedRoot(machine);
    machine.setFaultHandler(this);
    this.arch = LinuxArchRegistry.create(machine.isa().id(), new KernelArchContext(machine, tables, kernelRootPfn),
        config);
    this.tlbPolicy = arch.tlb();
    machine.setIdleListener(tlbPolicy::enterLazyTlb); // a core whose program ended runs its idle task
  }

  // x86 has one root (CR3) for both halves; arm64 walks the upper half through TTBR1.
  private static boolean probeSharedRoot(Machine machine) {
    TranslationContext probe = new TranslationContext();
    probe.setUser(1L << PhysicalMemory.FRAME_SHIFT, 0);
    probe.setKernelRoot(2L << PhysicalMemory.FRAME_SHIFT);
    return machine.isa().regime().rootPa(-1L << (machine.isa().regime().vaBits() - 1), probe)
        == probe.userRootPa();
  }

  /** Frame of the kernel's own root table (init_mm's pgd; arm64 TTBR1). */
  public long kernelRootPfn() {
    return kernelRootPfn;
  }

  /**
   * Whether kernel addresses are walked through each process's root (x86: one CR3), so every
   * process root must carry the kernel's top-level entries.
   */
  public boolean kernelSharesUserRoot() {
    return kernelSharesUserRoot;
  }

  /**
   * The kernel's vmalloc subsystem, created on first use (it pre-populates the kernel's
   * top-level entries of the vmalloc range on x86, so a run that never uses it pays nothing).
   */
  public Vmalloc vmalloc() {
    if (vmalloc == null) {
      vmalloc = new Vmalloc(new VmallocContext(machine, tables, kernelRootPfn, arch,
          kernelSharesUserRoot ? this::syncKernelTopLevelEntries : null), VmallocConfig.from(config));
    }
    return vmalloc;
  }

  /**
   * Copies the kernel root's upper-half top-level entries into every process root (Linux x86
   * {@code pgd_ctor} / {@code sync_global_pgds}); a no-op where the kernel has its own root.
   * The kernel pre-allocates the lower tables of those entries, so later kernel mappings need
   * no further copying.
   */
  public void syncKernelTopLevelEntries() {
    for (Mm mm : mms) {
      copyKernelTopLevel(mm.rootPfn());
    }
  }

  private void copyKernelTopLevel(long rootPfn) {
    if (!kernelSharesUserRoot) {
      return;
    }
    int entries = 1 << machine.format().indexBits();
    PhysicalMemory memory = machine.memory();
    for (int index = entries / 2; index < entries; index++) {
      long descriptor = memory.readDescriptor(kernelRootPfn, index);
      if (descriptor != 0 && memory.readDescriptor(rootPfn, index) != descriptor) {
        memory.writeDescriptor(rootPfn, index, descriptor);
        machine.charge(machine.actingCore(), costs.pteWriteCycles());
      }
    }
  }

  /**
   * Makes {@code core} run a kernel thread (no mm): on x86 CR3 is loaded with init_mm's root,
   * which maps the kernel half; on arm64 nothing changes, TTBR1 already holds the kernel root.
   */
  public void switchToKernelThread(int core) {
    currentMm[core] = null;
    machine.charge(core, costs.contextSwitchCycles());
    if (kernelSharesUserRoot) {
      machine.core(core).context().setUser(kernelRootPfn << PhysicalMemory.FRAME_SHIFT, 0);
    }
  }

  public Machine machine() {
    return machine;
  }

  public KernelConfig config() {
    return config;
  }

  public PageTableEditor tables() {
    return tables;
  }

  /**
   * Installs the hook race scenarios and tests use to run other cores' work at the teardown
   * paths' preemption points ({@link #ZAP_PTE_UNLOCKED}); by default nothing runs there.
   */
  public void setPreemptionHook(org.mmuemu.kernel.vmalloc.PreemptionHook hook) {
    this.preemptionHook = hook;
  }

  /** The page cache of file-backed shared mappings. */
  public PageCache pageCache() {
    return pageCache;
  }

  /** The reverse map of page-cache pages. */
  public ReverseMap rmap() {
    return rmap;
  }

  /** Linux's arch layer for the machine's ISA. */
  public LinuxArch arch() {
    return arch;
  }

  /** Linux's TLB policy for the machine's ISA ({@code arch().tlb()}). */
  public org.mmuemu.kernel.arch.ArchTlbPolicy tlbPolicy() {
    return tlbPolicy;
  }

  /** Creates an empty address space (charged to the acting core). */
  public Mm createMm() {
    int core = machine.actingCore();
    long root = tables.allocateTable(core);
    copyKernelTopLevel(root);
    Mm mm = new Mm(mms.size() + exitedMms.size() + 1, root, -1);
    mms.add(mm);
    return mm;
  }

  /**
   * Runs {@code mm} on {@code core}: pays the context-switch cost, then the arch policy's
   * switch_mm loads the root table and the tag into the core's translation registers.
   */
  public void switchTo(int core, Mm mm) {
    Mm previous = currentMm[core];
    currentMm[core] = mm;
    machine.charge(core, costs.contextSwitchCycles());
    tlbPolicy.switchMm(core, previous, mm);
  }

  /**
   * Writes the cores currently running {@code mm} into {@code out}, in core order.
   *
   * @return how many there are
   */
  public int coresRunning(Mm mm, int[] out) {
    int count = 0;
    for (int core = 0; core < currentMm.length; core++) {
      if (currentMm[core] == mm) {
        out[count++] = core;
      }
    }
    return count;
  }

  /**
   * Adds an anonymous mapping (Linux {@code mmap} of private anonymous memory); pages are
   * faulted in on first touch.
   */
  public void mmap(int core, Mm mm, Vma vma) {
    long start = OP_MMAP.begin(machine, core, vma.startVa());
    machine.charge(core, costs.lockCycles() + costs.vmaLookupCycles());
    mm.addVma(vma);
    OP_MMAP.end(machine, core, vma.startVa(), start);
  }

  /**
   * Unmaps {@code [startVa, endVa)} (Linux {@code munmap} / {@code unmap_region}): one
   * mmu_gather over the range; every present leaf is cleared and recorded, its page queued;
   * page-table pages that no remaining VMA needs (between the neighbouring VMAs, Linux's floor
   * and ceiling) are unhooked and queued too; {@code tlb_finish_mmu} flushes and only then frees
   * pages and tables (invariants I3, I4). On return no core running {@code mm} may still
   * translate the range ({@code UNFLUSHED_ALIAS}, as for madvise).
   */
  public void munmap(int core, Mm mm, long startVa, long endVa) {
    long start = OP_MUNMAP.begin(machine, core, startVa);
    machine.charge(core, costs.lockCycles());
    long floor = 0;
    long ceiling = userCeiling();
    List<Vma> unmapped = new ArrayList<>();
    for (Vma vma : mm.vmas()) {
      if (Long.compareUnsigned(vma.endVa(), startVa) <= 0) {
        floor = vma.endVa();
      } else if (Long.compareUnsigned(vma.startVa(), endVa) >= 0) {
        ceiling = vma.startVa();
        break;
      } else {
        unmapped.add(vma);
      }
    }
    mm.removeRange(startVa, endVa);
    MmuGather tlb = gather(core, mm, false);
    for (Vma vma : unmapped) {
      unmapVmaRange(tlb, vma, max(vma.startVa(), startVa), min(vma.endVa(), endVa));
    }
    if (!unmapped.isEmpty()) {
      long first = max(unmapped.get(0).startVa(), startVa);
      long last = min(unmapped.get(unmapped.size() - 1).endVa(), endVa);
      freePgtables(tlb, first, last, floor, ceiling);
    }
    tlb.finish();
    checkRangeFlushed(core, mm, startVa, endVa, "munmap");
    OP_MUNMAP.end(machine, core, startVa, start);
  }

  /**
   * {@code madvise(MADV_DONTNEED)} over {@code [startVa, endVa)}: the VMAs stay, their pages go
   * (zap_page_range_single under the mmap read lock: one gather, page tables kept). When it
   * returns, the range must fault afresh on every core, so afterwards no TLB of a core running
   * {@code mm} may still translate an address of the range whose entry is gone (DOMAIN.md §3.7;
   * reported as {@code UNFLUSHED_ALIAS}).
   */
  public void madviseDontneed(int core, Mm mm, long startVa, long endVa) {
    long start = OP_MADVISE.begin(machine, core, startVa);
    machine.charge(core, costs.lockCycles());
    MmuGather tlb = gather(core, mm, false);
    zapVmas(tlb, mm, startVa, endVa);
    tlb.finish();
    checkRangeFlushed(core, mm, startVa, endVa, "madvise(MADV_DONTNEED)");
    OP_MADVISE.end(machine, core, startVa, start);
  }

  /** Zaps the pages of every VMA of {@code mm} in {@code [startVa, endVa)} into an open gather (tlb_start_vma / tlb_end_vma per VMA). */
  public void zapVmas(MmuGather tlb, Mm mm, long startVa, long endVa) {
    for (Vma vma : mm.vmas()) {
      if (Long.compareUnsigned(vma.endVa(), startVa) > 0 && Long.compareUnsigned(vma.startVa(), endVa) < 0) {
        unmapVmaRange(tlb, vma, max(vma.startVa(), startVa), min(vma.endVa(), endVa));
        if (!tlb.fullmm()) {
          tlb.flushTlbOnly(); // tlb_end_vma: ranges do not span the holes between VMAs
        }
      }
    }
  }

  /**
   * Tears down the whole address space of an exiting process (Linux {@code exit_mmap} and the
   * final {@code mmdrop}): every core still running {@code mm} leaves it first (x86: lazily),
   * then one fullmm gather unmaps every VMA and frees every page-table page below the root;
   * the root goes last.
   *
   * <p>{@code // MODEL:} the root is freed at once (Linux frees the pgd at the last mmdrop, after
   * lazy users switched away); x86 lazy CPUs are switched to init_mm by the freed-tables flush;
   * on arm64 a core leaving the mm gets an empty TTBR0 table with ASID 0 (Linux's reserved
   * TTBR0 while no user task runs), so no walk can reach the freed tables.
   */
  public void exitMmap(int core, Mm mm) {
    long start = OP_EXIT_MMAP.begin(machine, core, 0);
    for (int other = 0; other < currentMm.length; other++) {
      if (currentMm[other] == mm) {
        exitThread(other);
      }
    }
    machine.charge(core, costs.lockCycles());
    MmuGather tlb = gather(core, mm, true);
    for (Vma vma : mm.vmas()) {
      unmapVmaRange(tlb, vma, vma.startVa(), vma.endVa());
    }
    freePgtables(tlb, 0, userCeiling(), 0, userCeiling());
    tlb.finish();
    machine.memory().free(mm.rootPfn()); // mmdrop: pgd_free
    machine.charge(core, costs.pageFreeCycles());
    mm.removeRange(0, userCeiling());
    mms.remove(mm);
    exitedMms.add(mm);
    OP_EXIT_MMAP.end(machine, core, 0, start);
  }

  /**
   * The task running on {@code core} exits: the core runs its idle task, keeping the mm lazily
   * (x86 {@code enter_lazy_tlb}); on arm64 TTBR0 gets an empty table with ASID 0 (Linux's
   * reserved TTBR0), so no user walk can reach the mm's tables once they are freed.
   */
  public void exitThread(int core) {
    currentMm[core] = null;
    tlbPolicy.enterLazyTlb(core);
    if (!kernelSharesUserRoot) {
      if (reservedUserRootPfn < 0) {
        reservedUserRootPfn = tables.allocateTable(core);
      }
      machine.core(core).context().setUser(reservedUserRootPfn << PhysicalMemory.FRAME_SHIFT, 0);
    }
  }

  /**
   * The OOM reaper's unmap of a victim's memory ({@code __oom_reap_task_mm}) while its threads
   * may still run on other cores. The {@code oomReaperGather} variant decides the gather:
   * {@code perVma} (the fix, 687cb0884a71): one gather per VMA over its range, never fullmm;
   * {@code fullmm} (2017, CVE-2017-18202): one whole-space gather with fullmm set on a live mm,
   * whose flush arm64 skips (DOMAIN.md §3.6). Page tables are kept; shared file mappings are
   * skipped, as Linux skips them.
   *
   * <p>Counter: {@code oomReapedPages}.
   */
  public void oomReap(int core, Mm mm) {
    long start = OP_OOM_REAP.begin(machine, core, 0);
    long before = pagesFreed;
    if (config.variants().oomReaperGather() == KernelVariants.OomReaperGather.FULLMM) {
      MmuGather tlb = gather(core, mm, true);
      for (Vma vma : mm.vmas()) {
        if (!vma.fileBacked()) {
          unmapVmaRange(tlb, vma, vma.startVa(), vma.endVa());
        }
      }
      tlb.finish();
    } else {
      for (Vma vma : mm.vmas()) {
        if (!vma.fileBacked()) {
          MmuGather tlb = gather(core, mm, false);
          unmapVmaRange(tlb, vma, vma.startVa(), vma.endVa());
          tlb.finish();
        }
      }
    }
    machine.stats().addKernelCounter("oomReapedPages", pagesFreed - before);
    OP_OOM_REAP.end(machine, core, 0, start);
  }

  /** Starts an mmu_gather on {@code mm} for {@code core} with this kernel's page release and variants. */
  public MmuGather gather(int core, Mm mm, boolean fullmm) {
    return MmuGather.begin(machine, tlbPolicy, pageOwner, nestedFlush, costs.pageAllocCycles(),
        costs.pageFreeCycles(), core, mm, fullmm);
  }

  private final MmuGather.PageOwner pageOwner = new MmuGather.PageOwner() {
    @Override
    public void releasePage(int core, long pfn) {
      CachedPage page = pageCache.byPfn(pfn);
      if (page != null) {
        page.putGatherRef(); // the page cache keeps the page
        return;
      }
      machine.memory().free(pfn);
      machine.charge(core, costs.pageFreeCycles());
      pagesFreed++;
    }

    @Override
    public void removeRmap(int core, long pfn, Mm mm, long va) {
      rmap.remove(pfn, mm, va);
    }
  };

  /**
   * Linux {@code unmap_page_range} over one VMA: per PTE table, {@code zap_pte_range}.
   *
   * @throws IllegalStateException when a block mapping covers part of the range
   */
  public void unmapVmaRange(MmuGather tlb, Vma vma, long startVa, long endVa) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
      long table = tlb.mm().rootPfn();
      boolean skipped = false;
      for (int level = 0; level < leafLevel; level++) {
        long descriptor = memory.readDescriptor(table, format.index(va, level));
        if (!format.isValid(descriptor, level)) {
          va = nextBoundary(va, format.levelShift(level));
          skipped = true;
          break;
        }
        if (format.isLeaf(descriptor, level)) {
          throw new IllegalStateException("va 0x" + Long.toHexString(va) + " is mapped by a level-" + level
              + " block; unmapping blocks is not modelled");
        }
        table = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
      }
      if (!skipped) {
        long tableEnd = min(endVa, nextBoundary(va, format.levelShift(leafLevel - 1)));
        va = zapPteRange(tlb, vma, table, va, tableEnd);
        preemptionHook.reached(ZAP_PTE_UNLOCKED, tlb.core());
      }
      if (va == 0) {
        break; // wrapped past the top of the address space
      }
    }
  }

  private static long nextBoundary(long va, int shift) {
    return (va & -(1L << shift)) + (1L << shift);
  }

  // zap_pte_range under the table's lock; returns where it stopped (early when the batches filled up)
  private long zapPteRange(MmuGather tlb, Vma vma, long tablePfn, long startVa, long endVa) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long pageSize = 1L << PhysicalMemory.FRAME_SHIFT;
    boolean forceFlush = false;
    boolean batchFull = false;
    long va = startVa;
    machine.charge(tlb.core(), costs.lockCycles());
    while (Long.compareUnsigned(va, endVa) < 0 && !batchFull) {
      int index = format.index(va, leafLevel);
      long descriptor = memory.readDescriptor(tablePfn, index);
      if (format.isValid(descriptor, leafLevel)) {
        memory.writeDescriptor(tablePfn, index, 0L); // ptep_get_and_clear_full
        machine.charge(tlb.core(), costs.pteWriteCycles());
        long pfn = format.outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT;
        machine.recordMapping(pfn, va, false);
        tlb.recordCleared(va, pageSize, leafLevel);
        boolean delay = false;
        CachedPage page = pageCache.byPfn(pfn);
        if (page != null) {
          boolean pteDirty = (format.flags(descriptor, leafLevel) & PteFlags.DIRTY) != 0;
          if (pteDirty) {
            page.markDirty(); // folio_mark_dirty from the cleared PTE's dirty bit
          }
          if (pteDirty && delayedRmap) {
            delay = true;
            forceFlush = true;
          } else {
            rmap.remove(pfn, tlb.mm(), va);
          }
          page.getGatherRef();
        }
        if (tlb.removePage(pfn, va, delay)) {
          forceFlush = true;
          batchFull = true;
        }
      }
      va += pageSize;
    }
    if (forceFlush) {
      tlb.flushTlbOnly(); // before the PTE lock is dropped
      tlb.flushRmaps();
    }
    if (batchFull) {
      tlb.batchFullFlush();
    } else if (forceFlush) {
      tlb.flushMmu();
    }
    return va;
  }

  /**
   * Linux {@code free_pgtables} / {@code free_pgd_range} for {@code [startVa, endVa)}: every
   * lower-level table whose whole span lies within {@code [floor, ceiling)} (no remaining VMA
   * can need it) and that holds no valid entry is unhooked and queued on the gather.
   */
  public void freePgtables(MmuGather tlb, long startVa, long endVa, long floor, long ceiling) {
    freeTablesBelow(tlb, tlb.mm().rootPfn(), 0, startVa, endVa, floor, ceiling);
  }

  private void freeTablesBelow(MmuGather tlb, long tablePfn, int level, long startVa, long endVa, long floor,
      long ceiling) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int shift = format.levelShift(level);
    long entrySize = 1L << shift;
    long va = startVa & -entrySize;
    while (Long.compareUnsigned(va, endVa) < 0) {
      int index = format.index(va, level);
      long descriptor = memory.readDescriptor(tablePfn, index);
      if (format.isValid(descriptor, level) && !format.isLeaf(descriptor, level)) {
        long child = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
        if (level + 1 < format.levels() - 1) {
          freeTablesBelow(tlb, child, level + 1, max(va, startVa), min(va + entrySize, endVa), floor, ceiling);
        }
        boolean withinBounds = Long.compareUnsigned(va, floor) >= 0
            && Long.compareUnsigned(va + entrySize - 1, ceiling - 1) <= 0;
        if (withinBounds && tableEmpty(child)) {
          memory.writeDescriptor(tablePfn, index, 0L);
          machine.charge(tlb.core(), costs.pteWriteCycles());
          tlb.removeTable(child, va, level);
        }
      }
      va += entrySize;
      if (va == 0) {
        break;
      }
    }
  }

  private boolean tableEmpty(long tablePfn) {
    int entries = 1 << machine.format().indexBits();
    for (int i = 0; i < entries; i++) {
      if (machine.memory().readDescriptor(tablePfn, i) != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * The end of user space ({@code TASK_SIZE}): the lower half where one root serves both
   * (x86), the whole of the user root's range where the kernel has its own (arm64 TTBR0).
   */
  public long userCeiling() {
    return arch.layout().userSpaceEndVa();
  }

  private static long max(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }

  private static long min(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0 ? a : b;
  }

  /**
   * The promise of madvise/munmap on return: no core running {@code mm} (idle cores, whose
   * program ended and which keep the mm lazily, excepted) still translates a
   * page of {@code [startVa, endVa)} that its PTE no longer maps. Each page is probed in each
   * TLB level with the core's current tag (no lookup is counted, no replacement state moves).
   */
  private void checkRangeFlushed(int core, Mm mm, long startVa, long endVa, String call) {
    long pages = (endVa - startVa) >>> PhysicalMemory.FRAME_SHIFT;
    if (pages > 4096) {
      return; // MODEL: the check is skipped for very large ranges to bound host time
    }
    for (int other = 0; other < currentMm.length; other++) {
      if (currentMm[other] != mm || machine.isIdle(other)) {
        continue; // an idle core runs no user code; it catches up before it runs the mm again
      }
      org.mmuemu.core.machine.Core c = machine.core(other);
      int asid = c.context().asid();
      for (long va = startVa; Long.compareUnsigned(va, endVa) < 0; va += 1L << PhysicalMemory.FRAME_SHIFT) {
        long descriptor = tables.leafDescriptor(mm.rootPfn(), va);
        long mappedPa = descriptor == 0 ? -1 : machine.format().outputPa(descriptor, machine.format().levels() - 1);
        for (org.mmuemu.core.tlb.SetAssociativeTlb tlb : c.tlbLevels()) {
          int slot = tlb.probe(va, asid);
          if (slot >= 0 && (tlb.translate(slot, va) & -(1L << PhysicalMemory.FRAME_SHIFT)) != mappedPa) {
            long pa = tlb.translate(slot, va);
            machine.oracle().report(ViolationKind.UNFLUSHED_ALIAS, other, machine.now(core), va, pa,
                pa >>> PhysicalMemory.FRAME_SHIFT, "after " + call + " returned on core " + core + ", " + tlb.name()
                    + " of core " + other + " still translates va 0x" + Long.toHexString(va) + " to pa 0x"
                    + Long.toHexString(pa) + (descriptor == 0 ? ", whose PTE is none" : ", which its PTE no longer maps"));
            break;
          }
        }
      }
    }
  }

  /**
   * A speculative page walk of {@code va} on {@code core}: the CPU walks the tables for an
   * address it may touch (a stale pointer, a prefetch) without accessing it. Whatever upper
   * levels the walk passes through are learnt by the core's walk caches; a walk that finds no
   * translation is dropped without a fault.
   *
   * <p>{@code // MODEL:} made through the machine's ordinary translation, so it pays the lookup
   * and walk cycles, fills the TLB when the address is mapped, and, when it is not, the machine
   * counts a fault and an unresolved fault (the kernel's fault path is not entered).
   */
  public void speculativeWalk(int core, long va) {
    speculating = true;
    try {
      machine.translate(core, va, AccessKind.READ);
    } finally {
      speculating = false;
    }
  }

  public Mm currentMm(int core) {
    return currentMm[core];
  }

  @Override
  public boolean handleFault(int core, long va, AccessKind kind, boolean permission) {
    if (speculating) {
      return false; // a speculative walk that finds nothing is dropped, no exception is taken
    }
    long start = OP_PAGEFAULT.begin(machine, core, va);
    machine.charge(core, costs.faultEntryCycles());
    boolean resolved = resolve(core, va, kind, permission);
    OP_PAGEFAULT.end(machine, core, va, start);
    return resolved;
  }

  private boolean resolve(int core, long va, AccessKind kind, boolean permission) {
    Mm mm = currentMm[core];
    if (mm == null) {
      segfaults++;
      return false;
    }
    Vma vma = mm.findVma(va, probes);
    machine.charge(core, probes[0] * costs.vmaLookupCycles());
    if (vma == null || (kind == AccessKind.WRITE && !vma.writable())
        || (kind == AccessKind.FETCH && (vma.flags() & PteFlags.EXEC) == 0)) {
      segfaults++;
      return false;
    }
    long pageVa = va & ~((1L << PhysicalMemory.FRAME_SHIFT) - 1);
    if (vma.fileBacked()) {
      return resolveFile(core, mm, vma, pageVa, kind, permission);
    }
    int flags = vma.flags() | PteFlags.USER | PteFlags.ACCESSED | (kind == AccessKind.WRITE ? PteFlags.DIRTY : 0);
    if (permission) {
      permissionFaults++;
      return tables.updateFlags(mm.rootPfn(), pageVa, flags | PteFlags.DIRTY, core);
    }
    pageFaults++;
    machine.charge(core, costs.pageAllocCycles() + costs.pageZeroCycles());
    long pfn = machine.memory().allocate(FrameKind.DATA);
    dataPagesAllocated++;
    tables.map(mm.rootPfn(), pageVa, pfn << PhysicalMemory.FRAME_SHIFT, machine.format().levels() - 1, flags, core);
    return true;
  }

  /**
   * A fault in a shared file mapping. A missing page is read into the page cache and mapped; a
   * read maps it write-protected (the mapping wants write notification), a write maps it
   * writable and dirty and marks the page dirty. A write to a write-protected page
   * ({@code do_wp_page} / {@code page_mkwrite}) marks the page dirty and makes the PTE writable
   * and dirty. So a page is only ever written through a PTE the kernel knows about: after
   * {@code folio_mkclean} write-protected every mapping, the next store faults here first.
   */
  private boolean resolveFile(int core, Mm mm, Vma vma, long pageVa, AccessKind kind, boolean permission) {
    long index = vma.filePageIndex(pageVa);
    if (index >= vma.file().pages()) {
      segfaults++; // SIGBUS beyond the end of the file
      return false;
    }
    boolean write = kind == AccessKind.WRITE;
    int flags = vma.flags() | PteFlags.USER | PteFlags.ACCESSED | (write ? PteFlags.DIRTY : 0);
    if (!write) {
      flags &= ~PteFlags.WRITE;
    }
    if (permission) {
      long descriptor = tables.leafDescriptor(mm.rootPfn(), pageVa);
      if (descriptor == 0) {
        return false;
      }
      CachedPage page = pageCache.byPfn(machine.format().outputPa(descriptor, machine.format().levels() - 1)
          >>> PhysicalMemory.FRAME_SHIFT);
      permissionFaults++;
      fileWriteNotifyFaults++;
      if (page != null) {
        page.markDirty();
      }
      return tables.updateFlags(mm.rootPfn(), pageVa, flags, core);
    }
    pageFaults++;
    fileFaults++;
    CachedPage page = pageCache.lookup(vma.file(), index);
    if (page == null) {
      machine.charge(core, costs.pageAllocCycles() + costs.fileReadCycles());
      page = pageCache.readPage(vma.file(), index);
      dataPagesAllocated++;
    }
    if (write) {
      page.markDirty();
    }
    tables.map(mm.rootPfn(), pageVa, page.pfn() << PhysicalMemory.FRAME_SHIFT, machine.format().levels() - 1, flags,
        core);
    rmap.add(page.pfn(), mm, pageVa);
    if (!write) {
      faultAround(core, mm, vma, pageVa, flags);
    }
    return true;
  }

  /**
   * Linux {@code do_fault_around} / {@code filemap_map_pages} after a read fault: the pages of
   * the {@code fault_around_bytes} window around the fault (aligned, clipped to the VMA and to
   * the faulting PTE table) that are already in the page cache and not mapped yet are mapped
   * write-protected, saving their own faults. Pages not cached are left to fault (no readahead).
   * Window from the kernel cost key {@code faultAroundBytes}, rounded down to a power of two;
   * 4096 (one page) or less turns it off.
   */
  private void faultAround(int core, Mm mm, Vma vma, long pageVa, int flags) {
    long windowBytes = Long.highestOneBit(costs.faultAroundBytes()); // Linux rounds down to a power of two
    if (windowBytes <= 4096) {
      return;
    }
    int leafLevel = machine.format().levels() - 1;
    long tableSpan = 1L << machine.format().levelShift(leafLevel - 1);
    long windowStart = max(max(pageVa & -windowBytes, vma.startVa()), pageVa & -tableSpan);
    long windowEnd = min(min((pageVa & -windowBytes) + windowBytes, vma.endVa()), (pageVa & -tableSpan) + tableSpan);
    for (long va = windowStart; Long.compareUnsigned(va, windowEnd) < 0; va += 1L << PhysicalMemory.FRAME_SHIFT) {
      if (va == pageVa || tables.leafDescriptor(mm.rootPfn(), va) != 0) {
        continue;
      }
      long index = vma.filePageIndex(va);
      CachedPage cached = index < vma.file().pages() ? pageCache.lookup(vma.file(), index) : null;
      if (cached == null) {
        continue;
      }
      tables.map(mm.rootPfn(), va, cached.pfn() << PhysicalMemory.FRAME_SHIFT, leafLevel, flags & ~PteFlags.DIRTY, core);
      rmap.add(cached.pfn(), mm, va);
      faultAroundPages++;
    }
  }

  /** The kernel's counters for the result's {@code kernel} section, sorted by name. */
  public Map<String, Object> counters() {
    Map<String, Object> counters = new LinkedHashMap<>();
    counters.put("dataPagesAllocated", dataPagesAllocated);
    counters.put("faultAroundPages", faultAroundPages);
    counters.put("fileFaults", fileFaults);
    counters.put("fileWriteNotifyFaults", fileWriteNotifyFaults);
    counters.put("pageCachePages", (long) pageCache.size());
    counters.put("framesInUse", machine.memory().framesInUse());
    counters.put("pageFaults", pageFaults);
    counters.put("pagesFreed", pagesFreed);
    counters.put("pageTablePages", tables.tablesAllocated());
    counters.put("permissionFaults", permissionFaults);
    counters.put("processes", (long) (mms.size() + exitedMms.size()));
    counters.put("processesExited", (long) exitedMms.size());
    counters.put("segfaults", segfaults);
    counters.putAll(machine.stats().kernelCounters()); // counted by the arch policies and mm code
    if (vmalloc != null) {
      counters.putAll(vmalloc.counters());
    }
    return counters;
  }
}
