package org.mmuemu.kernel;

import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelVariants;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.ZeroPfns;
import org.mmuemu.kernel.pagecache.PageCache;
import org.mmuemu.kernel.rmap.AnonPages;

/**
 * Long-term read-only pins of user pages (Linux mm/gup.c {@code pin_user_pages} with {@code
 * FOLL_LONGTERM}, as RDMA registers a buffer read-only; DOMAIN-FAULTS.md §5.3). GUP looks the page
 * up; a missing one is faulted in; a page the process might later replace by a COW copy is first
 * unshared ({@code gup_must_unshare}, then {@code handle_mm_fault} with {@code
 * FAULT_FLAG_UNSHARE}), so that the pin and the process keep using the same page. Which pages must
 * be unshared is the {@code unshareScope} variant: {@code cowMapping} (6.2+) anything mapped in a
 * COW mapping that is not an exclusive anonymous page (the zero page, a page-cache page); {@code
 * anonOnly} (before 6.2) only anonymous pages without the exclusive marker, so the zero page or a
 * page-cache page of a private file mapping is pinned as it is, and the process's next store moves
 * its mapping to a page the pin does not see. A missing page is faulted in for a read first, which
 * maps the zero page, so with {@code cowMapping} a pin of untouched anonymous memory takes a read
 * fault, an unshare fault and then pins the new exclusive page.
 *
 * <p>Counters: {@code gupPins}, {@code gupUnshareFaults}, {@code gupUnpins}, and {@code
 * gupPinsStale}: pins whose page the process no longer mapped at the pinned address when they were
 * released (what the device read was not what the process wrote).
 *
 * <p>{@code // MODEL:} the GUP-fast path and the mmap read lock are not modelled; a pinned
 * page-cache page is not protected from reclaim. Confined to the simulation thread.
 */
final class Gup {
  private static final KernelOperation OP_PIN = KernelOperation.named("pin_user_pages");
  private static final int MAX_FAULT_RETRIES = 3;

  private final Machine machine;
  private final PageTableEditor tables;
  private final PageCache pageCache;
  private final AnonPages anonPages;
  private final HugePmd hugePmd;
  private final ZeroPfns zeroPfns;
  private final PageFaults faults;
  private final boolean unshareCowMappings;
  private final int[] probes = new int[1];

  Gup(
      Machine machine,
      KernelConfig config,
      PageTableEditor tables,
      PageCache pageCache,
      AnonPages anonPages,
      HugePmd hugePmd,
      ZeroPfns zeroPfns,
      PageFaults faults) {
    this.machine = machine;
    this.tables = tables;
    this.pageCache = pageCache;
    this.anonPages = anonPages;
    this.hugePmd = hugePmd;
    this.zeroPfns = zeroPfns;
    this.faults = faults;
    this.unshareCowMappings =
        config.variants().unshareScope() == KernelVariants.UnshareScope.COW_MAPPING;
  }

  /**
   * Pins the page {@code mm} maps at {@code va} read-only for the long term, on behalf of the task
   * running on {@code core}.
   *
   * @return the pin, or null when nothing can be mapped there (no VMA)
   */
  Kernel.Pin pinReadOnly(int core, Mm mm, long va) {
    long start = OP_PIN.begin(machine, core, va);
    Kernel.Pin pin = null;
    Vma vma = mm.findVma(va, probes);
    long pageVa = va & -(1L << PhysicalMemory.FRAME_SHIFT);
    for (int attempt = 0; vma != null && pin == null && attempt < MAX_FAULT_RETRIES; attempt++) {
      hugePmd.split(core, mm, pageVa); // MODEL: Linux pins the subpage of a huge page
      long descriptor = tables.leafDescriptor(mm.rootPfn(), pageVa);
      if (descriptor == 0) {
        faults.gupFault(core, mm, pageVa, false);
        continue;
      }
      long pfn = pfnOf(descriptor);
      // PageAnon: neither a page-cache page nor the zero page
      boolean anon = pageCache.byPfn(pfn) == null && !zeroPfns.isZero(pfn);
      if (mustUnshare(vma, pfn, anon)) {
        machine.stats().addKernelCounter("gupUnshareFaults", 1);
        faults.gupFault(core, mm, pageVa, true);
        continue;
      }
      if (anon) {
        anonPages.pin(pfn);
      }
      machine.stats().addKernelCounter("gupPins", 1);
      pin = new Kernel.Pin(mm, pageVa, pfn, anon);
    }
    OP_PIN.end(machine, core, va, start);
    return pin;
  }

  // gup_must_unshare for a read-only long-term pin
  private boolean mustUnshare(Vma vma, long pfn, boolean anon) {
    if (anon) {
      return !anonPages.exclusive(pfn);
    }
    return unshareCowMappings && vma.cowMapping();
  }

  /**
   * Releases {@code pin} ({@code unpin_user_page}); frees an anonymous page nothing maps any more.
   */
  void unpin(int core, Kernel.Pin pin) {
    boolean exited = pin.mm().vmas().isEmpty(); // exit_mmap left nothing to compare with
    long descriptor = exited ? 0 : tables.leafDescriptor(pin.mm().rootPfn(), pin.va());
    if (!exited && (descriptor == 0 || pfnOf(descriptor) != pin.pfn())) {
      machine.stats().addKernelCounter("gupPinsStale", 1);
    }
    if (pin.anon() && anonPages.unpin(pin.pfn())) {
      machine.memory().free(pin.pfn());
    }
    machine.stats().addKernelCounter("gupUnpins", 1);
  }

  private long pfnOf(long descriptor) {
    int leafLevel = machine.format().levels() - 1;
    return machine.format().outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT;
  }
}
