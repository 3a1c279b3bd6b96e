package org.mmuemu.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.FaultHandler;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.kernel.arch.ArchTlbPolicies;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.SequentialAsidAllocator;
import org.mmuemu.kernel.mm.Vma;

/**
 * The kernel model of one run: processes and their page tables, which mm each core runs, and
 * the page-fault path (demand paging of anonymous memory).
 *
 * <h3>The fault path</h3>
 * A fault pays the entry cost, then the VMA lookup (per node visited). A translation fault in
 * a VMA allocates a frame, zeroes it and maps it (allocating missing tables); the entry is
 * written accessed, and dirty when the fault was a write, so the first access needs no second
 * fault. A permission fault on a writable VMA upgrades the leaf to writable and dirty. An
 * address outside every VMA, or a write to a read-only VMA, is a segmentation fault: the
 * access is abandoned and counted.
 *
 * <p>Confined to the simulation thread.
 */
public final class Kernel implements FaultHandler {
  private final Machine machine;
  private final KernelConfig config;
  private final PageTableEditor tables;
  private final SequentialAsidAllocator asids;
  private final ArchTlbPolicy tlbPolicy;
  private final List<Mm> mms = new ArrayList<>();
  private final Mm[] currentMm;
  private final long kernelRootPfn;
  private final int[] probes = new int[1];
  private long pageFaults;
  private long permissionFaults;
  private long segfaults;
  private long dataPagesAllocated;
  private long pagesFreed;

  /** Boots the kernel on {@code machine}: allocates the kernel's root table and installs the fault handler. */
  public Kernel(Machine machine, KernelConfig config) {
    this.machine = machine;
    this.config = config;
    this.tables = new PageTableEditor(machine, config);
    this.asids = new SequentialAsidAllocator(machine.isa().regime().asidBits());
    this.currentMm = new Mm[machine.coreCount()];
    machine.actOn(0);
    this.kernelRootPfn = tables.allocateTable(0);
    for (int core = 0; core < machine.coreCount(); core++) {
      machine.core(core).context().setKernelRoot(kernelRootPfn << PhysicalMemory.FRAME_SHIFT);
    }
    machine.setFaultHandler(this);
    this.tlbPolicy = ArchTlbPolicies.forKernel(this);
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

  /** Linux's TLB policy for the machine's ISA. */
  public ArchTlbPolicy tlbPolicy() {
    return tlbPolicy;
  }

  /**
   * Hands out a tag from the simple sequential allocator.
   *
   * <p>{@code // MODEL:} first cut shared by both arch policies until each has Linux's own
   * allocator (arm64 generations and rollover, x86 per-CPU dynamic ASIDs).
   */
  public int allocateAsid() {
    return asids.allocate();
  }

  /** Creates an empty address space (charged to the acting core). */
  public Mm createMm() {
    int core = machine.actingCore();
    long root = tables.allocateTable(core);
    Mm mm = new Mm(mms.size() + 1, root, -1);
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
    machine.charge(core, config.cost("contextSwitchCycles"));
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
    long start = machine.now(core);
    machine.charge(core, config.cost("lockCycles") + config.cost("vmaLookupCycles"));
    mm.addVma(vma);
    machine.stats().recordLatency("mmap", machine.now(core) - start);
  }

  /**
   * Unmaps {@code [startVa, endVa)} (Linux {@code munmap}): clears each leaf, flushes the range
   * through the arch policy, and only then frees the frames, so no core can reach a freed frame
   * through a translation of this range (the I3 invariant).
   *
   * <p>{@code // MODEL:} a first cut of the teardown: no mmu_gather batching, and page-table
   * pages are kept (Linux's free_pgtables may free them); both come with the mmu_gather work.
   */
  public void munmap(int core, Mm mm, long startVa, long endVa) {
    long start = machine.now(core);
    machine.charge(core, config.cost("lockCycles"));
    mm.removeRange(startVa, endVa);
    long pages = (endVa - startVa) >>> PhysicalMemory.FRAME_SHIFT;
    long[] freed = new long[(int) Math.min(pages, Integer.MAX_VALUE)];
    int freedCount = 0;
    for (long va = startVa; Long.compareUnsigned(va, endVa) < 0; va += 1L << PhysicalMemory.FRAME_SHIFT) {
      long pfn = tables.clearLeaf(mm.rootPfn(), va, core);
      if (pfn > 0) {
        freed[freedCount++] = pfn;
      }
    }
    if (freedCount > 0) {
      tlbPolicy.flushTlbRange(core, mm, startVa, endVa, PhysicalMemory.FRAME_SHIFT, true);
    }
    for (int i = 0; i < freedCount; i++) {
      machine.memory().free(freed[i]);
      machine.charge(core, config.cost("pageFreeCycles"));
    }
    pagesFreed += freedCount;
    machine.stats().recordLatency("munmap", machine.now(core) - start);
  }

  public Mm currentMm(int core) {
    return currentMm[core];
  }

  @Override
  public boolean handleFault(int core, long va, AccessKind kind, boolean permission) {
    long start = machine.now(core);
    machine.charge(core, config.cost("faultEntryCycles"));
    boolean resolved = resolve(core, va, kind, permission);
    machine.stats().recordLatency("pageFault", machine.now(core) - start);
    return resolved;
  }

  private boolean resolve(int core, long va, AccessKind kind, boolean permission) {
    Mm mm = currentMm[core];
    if (mm == null) {
      segfaults++;
      return false;
    }
    Vma vma = mm.findVma(va, probes);
    machine.charge(core, probes[0] * config.cost("vmaLookupCycles"));
    if (vma == null || (kind == AccessKind.WRITE && !vma.writable())
        || (kind == AccessKind.FETCH && (vma.flags() & PteFlags.EXEC) == 0)) {
      segfaults++;
      return false;
    }
    long pageVa = va & ~((1L << PhysicalMemory.FRAME_SHIFT) - 1);
    int flags = vma.flags() | PteFlags.USER | PteFlags.ACCESSED | (kind == AccessKind.WRITE ? PteFlags.DIRTY : 0);
    if (permission) {
      permissionFaults++;
      return tables.updateFlags(mm.rootPfn(), pageVa, flags | PteFlags.DIRTY, core);
    }
    pageFaults++;
    machine.charge(core, config.cost("pageAllocCycles") + config.cost("pageZeroCycles"));
    long pfn = machine.memory().allocate(FrameKind.DATA);
    dataPagesAllocated++;
    tables.map(mm.rootPfn(), pageVa, pfn << PhysicalMemory.FRAME_SHIFT, machine.format().levels() - 1, flags, core);
    return true;
  }

  /** The kernel's counters for the result's {@code kernel} section, sorted by name. */
  public Map<String, Object> counters() {
    Map<String, Object> counters = new LinkedHashMap<>();
    counters.put("dataPagesAllocated", dataPagesAllocated);
    counters.put("framesInUse", machine.memory().framesInUse());
    counters.put("pageFaults", pageFaults);
    counters.put("pagesFreed", pagesFreed);
    counters.put("pageTablePages", tables.tablesAllocated());
    counters.put("permissionFaults", permissionFaults);
    counters.put("processes", (long) mms.size());
    counters.put("segfaults", segfaults);
    counters.putAll(machine.stats().kernelCounters()); // arch policy counters (ASID rollovers, ...)
    return counters;
  }
}
