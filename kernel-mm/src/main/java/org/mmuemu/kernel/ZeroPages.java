package org.mmuemu.kernel;

import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.PageTableEditor;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.mm.ZeroPfns;

/**
 * The shared zero pages on the fault path (Linux mm/memory.c {@code do_anonymous_page}, mm/
 * huge_memory.c {@code do_huge_pmd_anonymous_page} and {@code do_huge_zero_wp_pmd}): a read fault
 * in anonymous memory maps the one zero page read-only instead of allocating, so memory that is
 * only read costs no page; the first store to it takes a write fault that replaces it by a new
 * zeroed page ({@code wp_page_copy}, nothing to copy). Where a huge page may map the address, a
 * read maps the 2 MiB huge zero page with one PMD instead ({@code use_zero_page}, the tunable
 * {@code thpUseZeroPage}), and a store to it replaces the whole PMD by a new transparent huge page.
 *
 * <p>The frames are {@link ZeroPfns}: every path that meets a page through a PTE skips them, as
 * Linux's {@code vm_normal_page} returns NULL for them (zap frees nothing, fork shares the entry
 * without counting, NUMA scans leave it, userfaultfd's resolve does not make it writable, GUP
 * unshares it before a long-term pin).
 *
 * <p>Counters ({@code kernel} section, when they happen): {@code zeroPageReadFaults} (read faults
 * that mapped the zero page), {@code hugeZeroPageReadFaults} (read faults that mapped the huge zero
 * page with one PMD), {@code thpZeroPageAlloc} (Linux's {@code thp_zero_page_alloc}: the huge zero
 * page allocated, at most once), {@code hugeZeroPageCowFaults} (stores that replaced a huge zero
 * PMD by a new huge page), and, counted by the fault path, {@code zeroPageCowFaults} and {@code
 * zeroPageUnshares} (write and unshare faults that replaced a zero-page PTE by a new zeroed page),
 * and by {@link HugePmd#split}, {@code hugeZeroPageSplits}.
 *
 * <p>{@code // MODEL:} no architecture forbids the zero page ({@code mm_forbids_zeropage} is an
 * s390 KVM case). A store to the huge zero page is handled as since Linux 6.13 ({@code
 * do_huge_zero_wp_pmd}, Dev Jain, 2024): a new huge page replaces the PMD (before 6.13 the PMD was
 * split into zero-page PTEs and the store copied one 4 KiB page). Confined to the simulation
 * thread.
 */
final class ZeroPages {
  private final Machine machine;
  private final KernelCosts costs;
  private final PageTableEditor tables;
  private final ArchTlbPolicy tlbPolicy;
  private final HugePmd hugePmd;
  private final ZeroPfns zeroPfns;
  private final boolean useHugeZeroPage;

  ZeroPages(MmParts parts, KernelConfig config) {
    this.machine = parts.machine();
    this.costs = parts.costs();
    this.tables = parts.tables();
    this.tlbPolicy = parts.tlbPolicy();
    this.hugePmd = parts.hugePmd();
    this.zeroPfns = parts.zeroPfns();
    this.useHugeZeroPage = config.tunables().thpUseZeroPage();
  }

  /** Whether {@code pfn} is a zero page frame (not a normal page: {@code vm_normal_page} NULL). */
  boolean isZero(long pfn) {
    return zeroPfns.isZero(pfn);
  }

  // a zero page's entry: the VMA's protection without write, young, clean (pte_mkspecial's
  // software bit is not modelled)
  private static int readOnlyFlags(Vma vma) {
    return (vma.flags() | PteFlags.USER | PteFlags.ACCESSED) & ~PteFlags.WRITE;
  }

  /**
   * {@code do_anonymous_page} for a read: maps the zero page read-only at {@code pageVa} (under the
   * PTE lock the caller holds). The VMA needs no {@code anon_vma} for it.
   */
  void mapZeroPte(int core, Mm mm, Vma vma, long pageVa) {
    tables.map(
        mm.rootPfn(),
        pageVa,
        zeroPfns.zeroPfn() << PhysicalMemory.FRAME_SHIFT,
        machine.format().levels() - 1,
        readOnlyFlags(vma),
        core);
    machine.stats().addKernelCounter("zeroPageReadFaults", 1);
  }

  /**
   * {@code do_huge_pmd_anonymous_page} for a read where a huge page may map {@code pageVa}: maps
   * the huge zero page read-only with one PMD, allocating it on its first use.
   *
   * @return false, changing nothing, when {@code thpUseZeroPage} is off (a read then allocates a
   *     huge page, as Linux does)
   */
  boolean mapHugeZeroPmd(int core, Mm mm, Vma vma, long pageVa) {
    if (!useHugeZeroPage) {
      return false;
    }
    if (!zeroPfns.hugeZeroAllocated()) {
      machine.charge(core, costs.pageAllocCycles() + ZeroPfns.HUGE_PAGES * costs.pageZeroCycles());
      machine.catchUp(core); // the PMD write must not be seen before the zeroing ends
      if (!zeroPfns.hugeZeroAllocated()) {
        // another CPU's allocation may have won meanwhile: Linux counts only the cmpxchg's winner
        machine.stats().addKernelCounter("thpZeroPageAlloc", 1);
      }
    }
    long headPfn = zeroPfns.hugeZeroHeadPfn();
    tables.map(
        mm.rootPfn(),
        pageVa & -hugePmd.hugePageBytes(),
        headPfn << PhysicalMemory.FRAME_SHIFT,
        hugePmd.pmdLevel(),
        readOnlyFlags(vma),
        core);
    machine.stats().addKernelCounter("hugeZeroPageReadFaults", 1);
    return true;
  }

  /**
   * {@code do_huge_zero_wp_pmd}: a store to the huge zero page at {@code pageVa}. The PMD is
   * cleared and flushed on every CPU of {@code mm} ({@code pmdp_huge_clear_flush}), then a new
   * zeroed huge page is mapped writable and dirty in its place. Nothing is released: the huge zero
   * page stays for every other mapping.
   *
   * @return the 4 KiB pages allocated
   */
  long wpHugeZeroPmd(int core, Mm mm, Vma vma, long pageVa) {
    long hugeBytes = hugePmd.hugePageBytes();
    long hugeVa = pageVa & -hugeBytes;
    long table = tables.tableAt(mm.rootPfn(), hugeVa, hugePmd.pmdLevel());
    machine.charge(core, costs.lockCycles()); // pmd_lock
    tables.clearEntry(table, hugeVa, hugePmd.pmdLevel(), core);
    tlbPolicy.flushTlbRange(
        core, mm, hugeVa, hugeVa + hugeBytes, Long.numberOfTrailingZeros(hugeBytes), true);
    hugePmd.mapNewHugePage(core, mm, vma, hugeVa, true);
    machine.stats().addKernelCounter("hugeZeroPageCowFaults", 1);
    return ZeroPfns.HUGE_PAGES;
  }
}
