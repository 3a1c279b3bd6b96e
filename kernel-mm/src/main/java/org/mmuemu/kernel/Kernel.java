package org.mmuemu.kernel;

import java.util.LinkedHashMap;
import java.util.Map;
import org.mmuemu.core.isa.TranslationContext;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.arch.PtdumpLock;
import org.mmuemu.kernel.arch.registry.LinuxArchRegistry;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelTunables;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.gather.MmuGather;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.SwapPte;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.VmaLocking;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.numa.NumaBalancing;
import org.mmuemu.kernel.oracle.RangeFlushOracle;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.AnonPages;
import org.mmuemu.kernel.rmap.ReverseMap;
import org.mmuemu.kernel.uffd.Userfaultfd;
import org.mmuemu.kernel.vmalloc.PreemptionHook;
import org.mmuemu.kernel.vmalloc.Vmalloc;
import org.mmuemu.kernel.vmalloc.VmallocConfig;
import org.mmuemu.kernel.vmalloc.VmallocContext;

/**
 * The kernel model of one run. It boots (the kernel's root table, the arch layer for the machine's
 * ISA, the fault handler) and is the entry point workloads and scenarios call; the work is done by
 * the parts Linux also keeps apart:
 *
 * <ul>
 *   <li>{@link Processes}: process lifecycle, which mm each core runs, mmap, context switches;
 *   <li>{@link PageFaults}: the fault path (demand paging, file pages, fault-around,
 *       copy-on-write);
 *   <li>{@link Fork}: fork's copy of an address space; {@link Gup}: long-term read-only pins;
 *   <li>{@link NumaBalancing}: NUMA hinting scans and faults;
 *   <li>{@link Teardown}: munmap, madvise(MADV_DONTNEED), exit_mmap and the OOM reaper through
 *       mmu_gather (see docs/mm.md);
 *   <li>{@link Mprotect}: mprotect; {@link VmaLocking}: mmap_lock and the per-VMA locks (see
 *       docs/faults.md);
 *   <li>{@link LinuxArch}: everything under Linux's arch/ (flush policy, layout, kernel PTEs);
 *   <li>{@link Vmalloc}, created on first use; and the checks of the kernel's promises in {@code
 *       kernel.oracle}.
 * </ul>
 *
 * <p>Confined to the simulation thread.
 */
public final class Kernel {
  /**
   * Preemption point after {@code zap_pte_range} dropped a PTE table's lock, with its gather still
   * open ({@link PreemptionHook#ZAP_PTE_UNLOCKED}, where every point's name is listed).
   */
  public static final String ZAP_PTE_UNLOCKED = PreemptionHook.ZAP_PTE_UNLOCKED;

  private final Machine machine;
  private final KernelConfig config;
  private final PageTableEditor tables;
  private final LinuxArch arch;
  private final PageCache pageCache;
  private final ReverseMap rmap = new ReverseMap();
  private final AnonPages anonPages = new AnonPages();
  private final long kernelRootPfn;
  private final boolean kernelSharesUserRoot;
  private final Processes processes;
  private final PageFaults faults;
  private final DeviceExclusive deviceExclusive;
  private final Userfaultfd uffd;
  private final Fork fork;
  private final Gup gup;
  private final Teardown teardown;
  private final Mprotect mprotect;
  private final VmaLocking vmaLocking;
  private final Ptdump ptdump;
  private final NumaBalancing numaBalancing;
  private final SlicePreemption slicePreemption;
  private Vmalloc vmalloc;

  /**
   * Boots the kernel on {@code machine}: allocates the kernel's root table and installs the fault
   * handler.
   */
  public Kernel(Machine machine, KernelConfig config) {
    this.machine = machine;
    this.config = config;
    this.tables = new PageTableEditor(machine, config.costs());
    this.pageCache = new PageCache(machine);
    machine.actOn(0);
    this.kernelRootPfn = tables.allocateTable(0);
    ZeroPfns zeroPfns = new ZeroPfns(machine.memory()); // empty_zero_page, set up at boot
    for (int core = 0; core < machine.coreCount(); core++) {
      machine.core(core).context().setKernelRoot(kernelRootPfn << PhysicalMemory.FRAME_SHIFT);
    }
    this.kernelSharesUserRoot = probeSharedRoot(machine);
    PtdumpLock ptdumpLock =
        new PtdumpLock(
            config.variants().ptdumpSync() == KernelVariants.PtdumpSync.STATIC_KEY,
            config.costs().lockCycles());
    this.arch =
        LinuxArchRegistry.create(
            machine.isa().id(),
            new KernelArchContext(machine, tables, kernelRootPfn, ptdumpLock),
            config);
    this.vmaLocking =
        new VmaLocking(
            machine,
            config.variants().faultLocking().perVma(),
            config.costs().lockCycles(),
            config.costs().vmaLookupCycles());
    this.processes =
        new Processes(
            machine,
            config.costs(),
            tables,
            arch.tlb(),
            vmaLocking,
            kernelRootPfn,
            kernelSharesUserRoot);
    HugePmd hugePmd = new HugePmd(machine, config, tables, anonPages, arch.tlb(), zeroPfns);
    MmParts parts =
        new MmParts(
            machine,
            config.costs(),
            tables,
            pageCache,
            rmap,
            anonPages,
            hugePmd,
            arch.tlb(),
            arch.userPtes(),
            processes,
            vmaLocking,
            zeroPfns);
    RangeFlushOracle flushOracle = new RangeFlushOracle(machine, tables, processes::currentMm);
    this.numaBalancing =
        new NumaBalancing(
            machine,
            config,
            tables,
            arch.tlb(),
            arch.userPtes(),
            anonPages,
            zeroPfns,
            flushOracle,
            (core, mm) -> gather(core, mm, false));
    this.deviceExclusive = new DeviceExclusive(parts, config);
    this.uffd =
        new Userfaultfd(
            machine,
            config.costs(),
            tables,
            arch.userPtes(),
            zeroPfns,
            vmaLocking,
            (core, mm) -> gather(core, mm, false));
    this.faults =
        new PageFaults(
            parts,
            config,
            deviceExclusive,
            uffd,
            numaBalancing,
            new AnonFolios(machine, config, tables, arch.userPtes(), uffd));
    this.fork = new Fork(parts);
    this.gup = new Gup(machine, config, tables, pageCache, anonPages, hugePmd, zeroPfns, faults);
    this.teardown =
        new Teardown(
            machine,
            config,
            arch.tlb(),
            arch.userPtes(),
            pageCache,
            rmap,
            anonPages,
            hugePmd,
            processes,
            flushOracle,
            vmaLocking,
            zeroPfns,
            arch.layout().userSpaceEndVa());
    this.mprotect = new Mprotect(parts, teardown);
    this.ptdump =
        new Ptdump(
            machine,
            ptdumpLock,
            kernelRootPfn,
            config.costs().pteWriteCycles(),
            arch.layout().vmallocStartVa(),
            arch.layout().vmallocEndVa());
    if (config.tunables().preempt() == KernelTunables.Preempt.FULL) {
      this.slicePreemption = new SlicePreemption(machine, config.tunables());
      setPreemptionHook(slicePreemption);
    } else {
      this.slicePreemption = null;
    }
    machine.setFaultHandler(faults);
    machine.setIdleListener(
        arch.tlb()::enterLazyTlb); // a core whose program ended runs its idle task
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
   * The kernel's vmalloc subsystem, created on first use (it pre-populates the kernel's top-level
   * entries of the vmalloc range on x86, so a run that never uses it pays nothing).
   */
  public Vmalloc vmalloc() {
    if (vmalloc == null) {
      vmalloc =
          new Vmalloc(
              new VmallocContext(
                  machine,
                  tables,
                  kernelRootPfn,
                  arch,
                  kernelSharesUserRoot ? processes::syncKernelTopLevelEntries : null),
              VmallocConfig.from(config));
      if (slicePreemption != null) {
        vmalloc.setPreemptionHook(slicePreemption);
      }
    }
    return vmalloc;
  }

  /**
   * Copies the kernel root's upper-half top-level entries into every process root (Linux x86 {@code
   * pgd_ctor} / {@code sync_global_pgds}); a no-op where the kernel has its own root.
   */
  public void syncKernelTopLevelEntries() {
    processes.syncKernelTopLevelEntries();
  }

  /** Makes {@code core} run a kernel thread (no mm). */
  public void switchToKernelThread(int core) {
    processes.switchToKernelThread(core);
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
   * Installs the hook race scenarios and tests use to run other cores' work at the preemption
   * points of teardown and ptdump ({@link PreemptionHook} lists them; vmalloc's own are set on
   * {@link Vmalloc#setPreemptionHook}); by default nothing runs there.
   */
  public void setPreemptionHook(PreemptionHook hook) {
    teardown.setPreemptionHook(hook);
    ptdump.setPreemptionHook(hook);
    deviceExclusive.setPreemptionHook(hook);
  }

  /**
   * One dump of the kernel page tables on {@code core}, as reading {@code
   * /sys/kernel/debug/kernel_page_tables} makes it ({@link Ptdump}).
   */
  public void ptdump(int core) {
    ptdump.walk(core);
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
  public ArchTlbPolicy tlbPolicy() {
    return arch.tlb();
  }

  /** Creates an empty address space (charged to the acting core). */
  public Mm createMm() {
    return processes.createMm();
  }

  /** Runs {@code mm} on {@code core} (context switch, then the arch's switch_mm). */
  public void switchTo(int core, Mm mm) {
    processes.switchTo(core, mm);
  }

  /**
   * Writes the cores currently running {@code mm} into {@code out}, in core order.
   *
   * @return how many there are
   */
  public int coresRunning(Mm mm, int[] out) {
    return processes.coresRunning(mm, out);
  }

  /**
   * fork: a child process whose address space copies {@code parent}'s, private pages shared
   * copy-on-write ({@link Fork}); the parent's TLBs are flushed. No core runs the child yet.
   */
  public Mm fork(int core, Mm parent) {
    return fork.fork(core, parent);
  }

  /**
   * A long-term read-only pin of the page {@code mm} maps at {@code va} ({@code pin_user_pages}
   * with {@code FOLL_LONGTERM}, unsharing first where the {@code unshareScope} variant says so; see
   * {@link Gup}).
   *
   * @return the pin, or null when no VMA covers {@code va}
   */
  public Pin pinUserPageReadOnly(int core, Mm mm, long va) {
    return gup.pinReadOnly(core, mm, va);
  }

  /** Releases a pin ({@code unpin_user_page}). */
  public void unpinUserPage(int core, Pin pin) {
    gup.unpin(core, pin);
  }

  /**
   * A GUP pin: the page frame {@code pfn} that {@code mm} mapped at {@code va} when it was pinned.
   *
   * @param anon whether it is an anonymous page (else a page-cache page)
   */
  public record Pin(Mm mm, long va, long pfn, boolean anon) {}

  /** The sharing state of anonymous pages (mapcounts, pins, exclusive markers). */
  public AnonPages anonPages() {
    return anonPages;
  }

  /** Adds an anonymous mapping (pages are faulted in on first touch). */
  public void mmap(int core, Mm mm, Vma vma) {
    processes.mmap(core, mm, vma);
  }

  /** Unmaps {@code [startVa, endVa)} through one mmu_gather ({@link Teardown}). */
  public void munmap(int core, Mm mm, long startVa, long endVa) {
    teardown.munmap(core, mm, startVa, endVa);
    uffd.checkZapped(core, mm, startVa, endVa);
  }

  /**
   * {@code mprotect}: gives {@code [startVa, endVa)} the PTE flags {@code flags} ({@link
   * org.mmuemu.core.isa.PteFlags} WRITE and EXEC; {@link Mprotect}).
   */
  public void mprotect(int core, Mm mm, long startVa, long endVa, int flags) {
    mprotect.mprotect(core, mm, startVa, endVa, flags);
  }

  /** {@code madvise(MADV_DONTNEED)} over {@code [startVa, endVa)} ({@link Teardown}). */
  public void madviseDontneed(int core, Mm mm, long startVa, long endVa) {
    teardown.madviseDontneed(core, mm, startVa, endVa);
    uffd.checkZapped(core, mm, startVa, endVa);
  }

  /**
   * {@code madvise(MADV_POPULATE_READ)} over {@code [startVa, endVa)}: every missing page is
   * faulted in for read by GUP ({@code handle_mm_fault} without an exception entry per page; the
   * syscall's own entry costs one, {@code faultEntryCycles}). A huge page is stepped over whole, as
   * GUP's {@code page_mask} does.
   */
  public void madvisePopulateRead(int core, Mm mm, long startVa, long endVa) {
    machine.charge(core, config.costs().faultEntryCycles());
    long va = startVa;
    while (Long.compareUnsigned(va, endVa) < 0) {
      faults.gupFault(core, mm, va, false);
      int level = tables.leafLevel(mm.rootPfn(), va);
      long step =
          1L << (level < 0 ? PhysicalMemory.FRAME_SHIFT : machine.format().levelShift(level));
      va = (va & -step) + step;
    }
  }

  /** userfaultfd in write-protect mode: registration, UFFDIO_WRITEPROTECT, the monitor's side. */
  public Userfaultfd userfaultfd() {
    return uffd;
  }

  /** Zaps the pages of every VMA of {@code mm} in {@code [startVa, endVa)} into an open gather. */
  public void zapVmas(MmuGather tlb, Mm mm, long startVa, long endVa) {
    teardown.zapVmas(tlb, mm, startVa, endVa);
  }

  /**
   * {@code make_device_exclusive} over {@code [startVa, endVa)}: a device takes the anonymous pages
   * of the range for itself; a CPU access takes each back ({@link DeviceExclusive}).
   *
   * @return the pages made exclusive
   */
  public long makeDeviceExclusive(int core, Mm mm, long startVa, long endVa) {
    return deviceExclusive.make(core, mm, startVa, endVa, faults);
  }

  /** Whether {@code mm}'s PTE for {@code va} is a device-exclusive entry (a lockless look). */
  public boolean isDeviceExclusive(Mm mm, long va) {
    return SwapPte.isDeviceExclusive(tables.leafEntry(mm.rootPfn(), va));
  }

  /** Tears down the whole address space of an exiting process ({@link Teardown}). */
  public void exitMmap(int core, Mm mm) {
    teardown.exitMmap(core, mm);
  }

  /** The task running on {@code core} exits; the core runs its idle task. */
  public void exitThread(int core) {
    processes.exitThread(core);
  }

  /** The OOM reaper's unmap of a victim's memory ({@link Teardown}). */
  public void oomReap(int core, Mm mm) {
    teardown.oomReap(core, mm);
  }

  /**
   * Starts an mmu_gather on {@code mm} for {@code core} with this kernel's page release and
   * variants.
   */
  public MmuGather gather(int core, Mm mm, boolean fullmm) {
    return teardown.gather(core, mm, fullmm);
  }

  /** Linux {@code unmap_page_range} over one VMA into an open gather. */
  public void unmapVmaRange(MmuGather tlb, Vma vma, long startVa, long endVa) {
    teardown.unmapVmaRange(tlb, vma, startVa, endVa);
  }

  /** Linux {@code free_pgtables} for {@code [startVa, endVa)} within {@code [floor, ceiling)}. */
  public void freePgtables(MmuGather tlb, long startVa, long endVa, long floor, long ceiling) {
    teardown.freePgtables(tlb, startVa, endVa, floor, ceiling);
  }

  /** Automatic NUMA balancing: off until a workload enables it ({@link NumaBalancing}). */
  public NumaBalancing numaBalancing() {
    return numaBalancing;
  }

  /** The end of user space ({@code TASK_SIZE}), from the arch layout. */
  public long userCeiling() {
    return arch.layout().userSpaceEndVa();
  }

  /**
   * A speculative page walk of {@code va} on {@code core}: the CPU walks the tables for an address
   * it may touch (a stale pointer, a prefetch) without accessing it, so its walk caches learn the
   * upper levels the walk passes through ({@link Machine#speculativeWalk}).
   *
   * <p>{@code // MODEL:} it pays the lookup and walk cycles and fills the TLB when the address is
   * mapped; when it is not, the machine counts a fault and an unresolved fault, and the kernel's
   * fault path is not entered.
   */
  public void speculativeWalk(int core, long va) {
    machine.speculativeWalk(core, va);
  }

  public Mm currentMm(int core) {
    return processes.currentMm(core);
  }

  /** The kernel's counters for the result's {@code kernel} section. */
  public Map<String, Object> counters() {
    Map<String, Object> counters = new LinkedHashMap<>();
    faults.addCounters(counters);
    deviceExclusive.addCounters(counters);
    counters.putAll(uffd.counters());
    vmaLocking.addCounters(counters);
    counters.put("pageCachePages", (long) pageCache.size());
    counters.put("framesInUse", machine.memory().framesInUse());
    if (machine.memory().nodeCount() > 1) {
      Map<String, Object> perNode = new LinkedHashMap<>();
      for (int node = 0; node < machine.memory().nodeCount(); node++) {
        perNode.put("node" + node, machine.memory().nodeFramesInUse(node));
      }
      counters.put("nodeFramesInUse", perNode); // where the frames are, on a NUMA machine
    }
    counters.put("pagesFreed", teardown.pagesFreed());
    counters.put("pageTablePages", tables.tablesAllocated());
    counters.put("processes", processes.created());
    counters.put("processesExited", processes.exited());
    counters.putAll(machine.stats().kernelCounters()); // counted by the arch policies and mm code
    if (vmalloc != null) {
      counters.putAll(vmalloc.counters());
    }
    return counters;
  }
}
