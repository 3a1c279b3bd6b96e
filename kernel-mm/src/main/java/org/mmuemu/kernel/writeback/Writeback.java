package org.mmuemu.kernel.writeback;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.mm.ReadAdvice;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.CachedPage;
import org.mmuemu.kernel.rmap.ReverseMap;

/**
 * Writeback and reclaim of page-cache pages, and the {@code LOST_WRITE} oracle (invariant I6).
 *
 * <h3>Writeback</h3>
 *
 * For each dirty page, {@code folio_clear_dirty_for_io} runs {@code folio_mkclean}: when the page
 * is mapped (its rmap is not empty) every PTE that maps it writable or dirty is cleared, flushed
 * ({@code ptep_clear_flush}: the page's TLB entries go on every core) and re-set write-protected
 * and clean, its dirty bit moving to the page. Then the dirty flag is taken and the frame's current
 * content version is recorded as the one that reached storage. A page whose rmap is empty is
 * cleaned without looking at any PTE ({@code folio_mapped} is false).
 *
 * <h3>Reclaim and the oracle</h3>
 *
 * {@link #reclaim} drops clean pages nobody maps or holds (not in the rmap, no gather reference),
 * and when asked clean mapped pages not referenced since the last pass, and frees their frames. A
 * clean page whose frame content is newer than what storage holds was written after its last
 * writeback without being dirtied again, which only a stale TLB entry allows (every fresh mapping
 * is write-protected until a fault dirties the page): dropping it loses that write, and is reported
 * as {@code LOST_WRITE} with the frame's history. A write counts only if it happened at or after
 * the writeback in simulated time: an earlier store that a lagging core makes after the writeback's
 * (atomic) call in host order was in the page before the I/O, so storage has it.
 *
 * <p>Counters: {@code pagesWrittenBack}, {@code mkcleanPtes}, {@code pagesReclaimed}, and those of
 * the reference check ({@link #reclaim}).
 *
 * <p>{@code // MODEL:} the I/O is instantaneous (no writeback flag, no end-io); mapped pages are
 * reclaimed only when asked ({@link #reclaim(int, int, boolean)}); no dirty-page throttling.
 * Confined to the simulation thread.
 */
public final class Writeback {
  private static final KernelOperation OP_WRITEBACK = KernelOperation.named("writeback");
  private static final KernelOperation OP_WRITEPAGE = KernelOperation.named("writepage");
  private static final KernelOperation OP_RECLAIM = KernelOperation.named("reclaim");
  private final Kernel kernel;
  private final Machine machine;
  private final ReverseMap rmap;
  private final long lockCycles;
  private final long vmaLookupCycles;
  private final boolean skipVmaWithoutRecency;
  private final int[] probes = new int[1];

  /**
   * What {@link #folioReferenced} found: the mappings that referenced the page, and whether one of
   * them is executable ({@code VM_EXEC} in the VM flags Linux collects from referencing VMAs).
   */
  private record References(int ptes, boolean exec) {
    static final References NONE = new References(0, false);
  }

  public Writeback(Kernel kernel) {
    this.kernel = kernel;
    this.machine = kernel.machine();
    this.rmap = kernel.rmap();
    this.lockCycles = kernel.config().costs().lockCycles();
    this.vmaLookupCycles = kernel.config().costs().vmaLookupCycles();
    this.skipVmaWithoutRecency =
        kernel.config().variants().vmaRecency() == KernelVariants.VmaRecency.SKIP_VMA;
  }

  /**
   * Writes back every dirty page on {@code core}.
   *
   * @return pages written
   */
  public int writebackAll(int core) {
    long start = OP_WRITEBACK.begin(machine, core, 0);
    int written = 0;
    for (CachedPage page : kernel.pageCache().pages()) {
      if (page.dirty()) {
        writePage(core, page);
        written++;
      }
    }
    OP_WRITEBACK.end(machine, core, 0, start);
    return written;
  }

  /**
   * Cleans and writes one page ({@code folio_clear_dirty_for_io}, then the I/O); latency {@code
   * writepage}.
   */
  public void writePage(int core, CachedPage page) {
    long start = OP_WRITEPAGE.begin(machine, core, 0);
    mkclean(core, page);
    page.clearDirty();
    page.setStoredVersion(machine.memory().contentVersion(page.pfn()), machine.now(core));
    machine.charge(core, kernel.config().costs().writebackPageCycles());
    machine.stats().addKernelCounter("pagesWrittenBack", 1);
    OP_WRITEPAGE.end(machine, core, 0, start);
  }

  /**
   * Linux {@code folio_mkclean}: write-protects and cleans every mapping the rmap shows, each under
   * its PTE table's lock ({@code page_vma_mapped_walk}), so a zap holding that lock is waited for.
   */
  private void mkclean(int core, CachedPage page) {
    if (rmap.mapcount(page.pfn()) == 0) {
      return;
    }
    for (ReverseMap.Mapping mapping : List.copyOf(rmap.mappings(page.pfn()))) {
      mapping.mm().pteLock(mapping.va()).acquire(machine, core, lockCycles);
      mkcleanOne(core, page, mapping);
      mapping.mm().pteLock(mapping.va()).release(machine, core);
    }
  }

  private void mkcleanOne(int core, CachedPage page, ReverseMap.Mapping mapping) {
    PageTableFormat format = machine.format();
    int leafLevel = format.levels() - 1;
    long rootPfn = mapping.mm().rootPfn();
    long descriptor = kernel.tables().leafDescriptor(rootPfn, mapping.va());
    if (descriptor == 0) {
      return;
    }
    int flags = format.flags(descriptor, leafLevel);
    if ((flags & (PteFlags.WRITE | PteFlags.DIRTY)) == 0) {
      return;
    }
    long pa = format.outputPa(descriptor, leafLevel);
    kernel.tables().clearLeaf(rootPfn, mapping.va(), core);
    kernel
        .tlbPolicy()
        .flushTlbRange(
            core,
            mapping.mm(),
            mapping.va(),
            mapping.va() + (1L << PhysicalMemory.FRAME_SHIFT),
            PhysicalMemory.FRAME_SHIFT,
            true);
    if ((flags & PteFlags.DIRTY) != 0) {
      page.markDirty();
    }
    kernel
        .tables()
        .map(
            rootPfn, mapping.va(), pa, leafLevel, flags & ~(PteFlags.WRITE | PteFlags.DIRTY), core);
    machine.stats().addKernelCounter("mkcleanPtes", 1);
  }

  /**
   * Drops up to {@code maxPages} clean, unreferenced pages (lowest file and index first), checking
   * each for a lost write ({@code shrink_folio_list}); without {@code unmapMapped} only pages no
   * PTE maps ({@code may_unmap} clear: a mapped page is passed over before its references are
   * read). With {@code unmapMapped}, a clean mapped page's references are checked first ({@code
   * folio_check_references}, {@link #keepReferenced}): a page accessed through a mapping since the
   * last pass is kept, and the accessed flags are cleared for the next one. An unreferenced one is
   * unmapped ({@code try_to_unmap}): each PTE is cleared and its flush started through the arch
   * ({@link org.mmuemu.kernel.arch.ArchTlbPolicy#reclaimUnmapFlush}: arm64 batches them), and
   * before any page is freed the flushes are completed ({@code try_to_unmap_flush}). Counter:
   * {@code reclaimUnmappedPtes}.
   *
   * <p>{@code // MODEL:} a page with a dirty PTE is left mapped for the next writeback pass (Linux
   * moves the dirty bit to the folio and writes it out); the folio lock is not modelled, so a page
   * mapped again before the frees is kept instead. There is one list, not an active and an inactive
   * LRU: an activated page is kept for this pass like any referenced one (counted as {@code
   * reclaimActivated}) and checked again at the next; dirty pages are passed over before their
   * references are read, and zap does not mark the pages of young PTEs accessed.
   *
   * @return pages dropped
   */
  public int reclaim(int core, int maxPages, boolean unmapMapped) {
    long start = OP_RECLAIM.begin(machine, core, 0);
    List<CachedPage> victims = new ArrayList<>();
    for (CachedPage page : kernel.pageCache().pages()) {
      if (victims.size() == maxPages) {
        break;
      }
      if (page.dirty() || page.gatherRefs() > 0) {
        continue;
      }
      boolean mapped = rmap.mapcount(page.pfn()) > 0;
      if (mapped && !unmapMapped) {
        continue; // !sc->may_unmap: a mapped page is passed over before its references are read
      }
      if (keepReferenced(core, page)) {
        continue;
      }
      if (mapped && !tryToUnmap(core, page)) {
        continue;
      }
      victims.add(page);
    }
    kernel.tlbPolicy().reclaimUnmapFlushWait(core);
    int dropped = 0;
    for (CachedPage page : victims) {
      if (page.dirty() || rmap.mapcount(page.pfn()) > 0 || page.gatherRefs() > 0) {
        // faulted in again since it was unmapped (and written, or zapped by a gather that still
        // holds it: __remove_mapping's reference freeze fails on the gather's reference)
        continue;
      }
      checkLostWrite(core, page);
      kernel.pageCache().remove(page);
      machine.memory().free(page.pfn());
      machine.charge(core, kernel.config().costs().pageFreeCycles());
      dropped++;
    }
    machine.stats().addKernelCounter("pagesReclaimed", dropped);
    OP_RECLAIM.end(machine, core, 0, start);
    return dropped;
  }

  /**
   * Linux {@code folio_check_references}: the references the rmap walk finds ({@link
   * #folioReferenced}) and the page's {@code PG_referenced}, taken. A page referenced through a
   * mapping is kept and marked referenced; it is activated when it was marked already, when more
   * than one mapping referenced it, or when an executable file mapping did. An unreferenced clean
   * page is reclaimed whatever its mark said. Counters: {@code reclaimReferencedKept}, {@code
   * reclaimActivated} (the kept pages Linux would move to the active list).
   */
  private boolean keepReferenced(int core, CachedPage page) {
    References references = folioReferenced(core, page);
    boolean referencedFolio = page.testClearReferenced();
    if (references.ptes() == 0) {
      return false;
    }
    page.markReferenced();
    if (referencedFolio || references.ptes() > 1 || references.exec()) {
      machine.stats().addKernelCounter("reclaimActivated", 1);
    }
    machine.stats().addKernelCounter("reclaimReferencedKept", 1);
    return true;
  }

  /**
   * Linux {@code folio_referenced}: the mappings of {@code page} through which it was accessed
   * since the last check. Each mapping's accessed flag is tested and cleared under its PTE table's
   * lock ({@code ptep_clear_flush_young}, with the arch's flush for a young one: {@link
   * org.mmuemu.kernel.arch.ArchTlbPolicy#youngClearedFlush}). A mapping in a VMA without recency
   * ({@link ReadAdvice#hasRecency}) is skipped whole with {@code vmaRecency=skipVma} (6.3+, {@code
   * invalid_folio_referenced_vma}); with {@code legacy} its flag is still cleared and only a
   * reference through an {@code MADV_SEQUENTIAL} mapping is not counted. Counters: {@code
   * reclaimYoungCleared}, {@code reclaimRecencySkipped}, {@code reclaimSeqReadIgnored}.
   *
   * <p>{@code // MODEL:} each mapping's VMA is found in its mm's VMA tree (charged per node as a
   * VMA lookup) where Linux walks the file's {@code i_mmap} interval tree; no MGLRU look-around.
   */
  private References folioReferenced(int core, CachedPage page) {
    if (rmap.mapcount(page.pfn()) == 0) {
      return References.NONE;
    }
    int referenced = 0;
    boolean exec = false;
    for (ReverseMap.Mapping mapping : List.copyOf(rmap.mappings(page.pfn()))) {
      Vma vma = mapping.mm().findVma(mapping.va(), probes);
      machine.charge(core, probes[0] * vmaLookupCycles);
      ReadAdvice advice = vma == null ? ReadAdvice.NORMAL : vma.readAdvice();
      if (!advice.hasRecency() && skipVmaWithoutRecency) {
        machine.stats().addKernelCounter("reclaimRecencySkipped", 1);
        continue;
      }
      mapping.mm().pteLock(mapping.va()).acquire(machine, core, lockCycles);
      boolean young = clearFlushYoung(core, mapping);
      mapping.mm().pteLock(mapping.va()).release(machine, core);
      if (!young) {
        continue;
      }
      if (advice == ReadAdvice.SEQUENTIAL) {
        machine.stats().addKernelCounter("reclaimSeqReadIgnored", 1);
        continue;
      }
      referenced++;
      exec |= vma != null && (vma.flags() & PteFlags.EXEC) != 0;
    }
    return new References(referenced, exec);
  }

  // ptep_clear_flush_young: whether the PTE was young; a young one is made old and flushed as the
  // arch does it
  private boolean clearFlushYoung(int core, ReverseMap.Mapping mapping) {
    PageTableFormat format = machine.format();
    int leafLevel = format.levels() - 1;
    long rootPfn = mapping.mm().rootPfn();
    long descriptor = kernel.tables().leafDescriptor(rootPfn, mapping.va());
    if (descriptor == 0) {
      return false;
    }
    int flags = format.flags(descriptor, leafLevel);
    if ((flags & PteFlags.ACCESSED) == 0) {
      return false;
    }
    kernel.tables().updateFlags(rootPfn, mapping.va(), flags & ~PteFlags.ACCESSED, core);
    kernel.tlbPolicy().youngClearedFlush(core, mapping.mm(), mapping.va());
    machine.stats().addKernelCounter("reclaimYoungCleared", 1);
    return true;
  }

  // try_to_unmap: every mapping of a page whose PTEs are all clean is cleared, its flush started
  private boolean tryToUnmap(int core, CachedPage page) {
    PageTableFormat format = machine.format();
    int leafLevel = format.levels() - 1;
    List<ReverseMap.Mapping> mappings = List.copyOf(rmap.mappings(page.pfn()));
    for (ReverseMap.Mapping mapping : mappings) {
      long descriptor = kernel.tables().leafDescriptor(mapping.mm().rootPfn(), mapping.va());
      if (descriptor != 0 && (format.flags(descriptor, leafLevel) & PteFlags.DIRTY) != 0) {
        return false;
      }
    }
    for (ReverseMap.Mapping mapping : mappings) {
      kernel.tables().clearLeaf(mapping.mm().rootPfn(), mapping.va(), core);
      kernel.tlbPolicy().reclaimUnmapFlush(core, mapping.mm(), mapping.va());
      rmap.remove(page.pfn(), mapping.mm(), mapping.va());
      machine.stats().addKernelCounter("reclaimUnmappedPtes", 1);
    }
    return true;
  }

  private void checkLostWrite(int core, CachedPage page) {
    long version = machine.memory().contentVersion(page.pfn());
    if (version != page.storedVersion()
        && machine.memory().lastWriteCycle(page.pfn()) >= page.storedAtCycle()) {
      long pa = page.pfn() << PhysicalMemory.FRAME_SHIFT;
      machine
          .oracle()
          .report(
              ViolationKind.LOST_WRITE,
              core,
              machine.now(core),
              -1,
              pa,
              page.pfn(),
              "reclaim dropped clean page "
                  + page.index()
                  + " of file "
                  + page.file().name()
                  + " (frame 0x"
                  + Long.toHexString(page.pfn())
                  + ") holding content version "
                  + version
                  + "; storage holds version "
                  + page.storedVersion()
                  + ": a write after writeback cleaned the page never reached storage");
    }
  }
}
