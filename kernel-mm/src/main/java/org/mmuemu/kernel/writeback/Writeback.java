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
 * {@link #reclaim} drops clean pages nobody maps or holds (not in the rmap, no gather reference)
 * and frees their frames. A clean page whose frame content is newer than what storage holds was
 * written after its last writeback without being dirtied again, which only a stale TLB entry allows
 * (every fresh mapping is write-protected until a fault dirties the page): dropping it loses that
 * write, and is reported as {@code LOST_WRITE} with the frame's history. A write counts only if it
 * happened at or after the writeback in simulated time: an earlier store that a lagging core makes
 * after the writeback's (atomic) call in host order was in the page before the I/O, so storage has
 * it.
 *
 * <p>Counters: {@code pagesWrittenBack}, {@code mkcleanPtes}, {@code pagesReclaimed}.
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

  public Writeback(Kernel kernel) {
    this.kernel = kernel;
    this.machine = kernel.machine();
    this.rmap = kernel.rmap();
    this.lockCycles = kernel.config().costs().lockCycles();
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
   * PTE maps. With {@code unmapMapped}, a clean page that is still mapped is unmapped first ({@code
   * try_to_unmap}): each PTE is cleared and its flush started through the arch ({@link
   * org.mmuemu.kernel.arch.ArchTlbPolicy#reclaimUnmapFlush}: arm64 batches them), and before any
   * page is freed the flushes are completed ({@code try_to_unmap_flush}). Counter: {@code
   * reclaimUnmappedPtes}.
   *
   * <p>{@code // MODEL:} a page with a dirty PTE is left mapped for the next writeback pass (Linux
   * moves the dirty bit to the folio and writes it out); the folio lock is not modelled, so a page
   * mapped again before the frees is kept instead.
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
      if (rmap.mapcount(page.pfn()) > 0 && !(unmapMapped && tryToUnmap(core, page))) {
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
