package org.mmuemu.kernel;

import static org.mmuemu.kernel.UnsignedVa.min;

import org.mmuemu.core.isa.PageTableFormat;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.config.KernelCosts;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * fork's copy of an address space (Linux kernel/fork.c {@code dup_mmap}, mm/memory.c {@code
 * copy_page_range} and {@code copy_present_pte}; DOMAIN-FAULTS.md §5.1). The child gets every VMA;
 * the page tables of private VMAs are copied entry by entry: a writable entry is write-protected in
 * the parent in place and copied read-only, so the first store on either side faults into {@code
 * do_wp_page}; the page's mapcount goes up and it loses its exclusive marker. A page that may be
 * pinned for DMA cannot be shared and is copied for the child at once. A VMA without an {@code
 * anon_vma} is not copied ({@code vma_needs_copy}): shared mappings, private file mappings that
 * never held an anonymous copy, and anonymous ones that only ever mapped the zero page; the child
 * refaults them (from the page cache, or to the zero page). Every child entry starts old. At the
 * end the parent's whole mm is flushed once ({@code flush_tlb_mm}), because other threads of the
 * parent may still hold writable TLB entries for pages that are now shared. An entry of the zero
 * page is copied as it is (it is read-only already and no page is counted), and a huge zero PMD is
 * copied as one PMD ({@code copy_huge_pmd}), where other huge pages are split first.
 *
 * <p>Counters: {@code forks}, {@code forkPtesCopied}, {@code forkPtesWriteProtected}, {@code
 * forkPinnedCopies}, {@code forkVmasSkipped}, {@code forkZeroPtesCopied} (of {@code
 * forkPtesCopied}), {@code forkHugeZeroPmdsCopied}.
 *
 * <p>{@code // MODEL:} reading a parent entry costs nothing (like the kernel's other software
 * walks), folio refcount atomics are not charged. Confined to the simulation thread.
 */
final class Fork {
  private static final KernelOperation OP_FORK = KernelOperation.named("fork");

  private final Machine machine;
  private final KernelCosts costs;
  private final MmParts parts;

  Fork(MmParts parts) {
    this.machine = parts.machine();
    this.costs = parts.costs();
    this.parts = parts;
  }

  /** Creates the child of {@code parent} on {@code core} and returns its mm. */
  Mm fork(int core, Mm parent) {
    long start = OP_FORK.begin(machine, core, 0);
    // mmap_write_lock(parent) held over the copy; the child is new, so its own write lock
    // (mmap_write_lock_nested) is never contended and only charged.
    parts.vmaLocking().mmapWriteLock(core, parent);
    machine.charge(core, costs.lockCycles());
    Mm child = parts.processes().createMm();
    for (Vma vma : parent.vmas()) {
      // 6.4.3 (fb49c455323f): each parent VMA is write-locked before its tables are copied, so no
      // fault under the VMA lock changes them meanwhile
      parts.vmaLocking().vmaStartWrite(core, parent, vma);
      child.addVma(vma); // vm_area_dup + insertion into the child's tree
      if (parent.vmaLock(vma).hasAnonVma()) {
        child.anonVmaPrepare(vma); // anon_vma_fork
      }
      machine.charge(core, costs.vmaLookupCycles());
      if (needsCopy(parent, vma)) {
        // MODEL: Linux shares a huge page's PMD and splits on COW; here only the huge zero page's
        parts.hugePmd().splitAll(core, parent, vma, true);
        copyPageRange(core, parent, child, vma);
      } else {
        machine.stats().addKernelCounter("forkVmasSkipped", 1);
      }
    }
    parts.tlbPolicy().flushTlbMm(core, parent);
    parts.vmaLocking().mmapWriteUnlock(core, parent);
    machine.stats().addKernelCounter("forks", 1);
    OP_FORK.end(machine, core, 0, start);
    return child;
  }

  // Linux vma_needs_copy: what has no anon_vma can be refaulted (file pages, the zero page); the
  // model has no VM_PFNMAP mappings, and a child inherits no userfaultfd registration (no
  // UFFD_FEATURE_EVENT_FORK), so its VMAs are never uffd-wp
  private static boolean needsCopy(Mm parent, Vma vma) {
    return !vma.shared() && parent.vmaLock(vma).hasAnonVma();
  }

  // copy_pte_range for one PTE table of the parent: the PTEs of [startVa, endVa) in it
  private void copyPteTable(
      int core, Mm parent, Mm child, Vma vma, long tablePfn, long startVa, long endVa) {
    // lock: the parent's and the child's PTE table locks (copy_pte_range)
    machine.charge(core, 2 * costs.lockCycles());
    // wrprotect_ptes of the parent: a contiguous block the VMA holds in part is unfolded
    parts.userPtes().unfoldPartial(core, parent, startVa, endVa);
    for (long va = startVa; Long.compareUnsigned(va, endVa) < 0; va += 4096) {
      copyPresentPte(core, child, vma, tablePfn, va);
    }
  }

  // copy_page_range: copies every PTE table of the parent under vma's range, skipping ranges whose
  // upper-level tables are missing; a huge zero PMD is copied into the child whole.
  private void copyPageRange(int core, Mm parent, Mm child, Vma vma) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    long va = vma.startVa();
    while (Long.compareUnsigned(va, vma.endVa()) < 0) {
      long table = parent.rootPfn();
      int missingLevel = -1;
      for (int level = 0; level < leafLevel && missingLevel < 0; level++) {
        long descriptor = memory.readDescriptor(table, format.index(va, level));
        if (!format.isValid(descriptor, level)) {
          missingLevel = level;
        } else if (format.isLeaf(descriptor, level)
            && level == parts.hugePmd().pmdLevel()
            && parts
                .zeroPfns()
                .isHugeZero(format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT)) {
          copyHugeZeroPmd(core, child, va & -(1L << format.levelShift(level)), descriptor);
          missingLevel = level; // nothing below it to walk
        } else if (format.isLeaf(descriptor, level)) {
          throw new IllegalStateException(
              "va 0x"
                  + Long.toHexString(va)
                  + " is mapped by a level-"
                  + level
                  + " block; fork copies base pages only");
        } else {
          table = format.outputPa(descriptor, level) >>> PhysicalMemory.FRAME_SHIFT;
        }
      }
      int shift = format.levelShift(missingLevel < 0 ? leafLevel - 1 : missingLevel);
      long next = min(vma.endVa(), (va & -(1L << shift)) + (1L << shift));
      if (missingLevel < 0) {
        copyPteTable(core, parent, child, vma, table, va, next);
      }
      if (next == 0) {
        return; // wrapped past the top of the address space
      }
      va = next;
    }
  }

  private boolean anyPinned(long firstPfn, int pages) {
    for (int i = 0; i < pages; i++) {
      if (parts.anonPages().pinned(firstPfn + i)) {
        return true;
      }
    }
    return false;
  }

  // copy_huge_pmd of the huge zero page: the child maps it too, read-only, old
  private void copyHugeZeroPmd(int core, Mm child, long hugeVa, long descriptor) {
    PageTableFormat format = machine.format();
    int level = parts.hugePmd().pmdLevel();
    machine.charge(core, 2 * costs.lockCycles()); // both PMD locks
    parts
        .tables()
        .map(
            child.rootPfn(),
            hugeVa,
            format.outputPa(descriptor, level),
            level,
            format.flags(descriptor, level) & ~PteFlags.ACCESSED,
            core);
    machine.stats().addKernelCounter("forkHugeZeroPmdsCopied", 1);
  }

  private void copyPresentPte(int core, Mm child, Vma vma, long tablePfn, long va) {
    PageTableFormat format = machine.format();
    PhysicalMemory memory = machine.memory();
    int leafLevel = format.levels() - 1;
    int index = format.index(va, leafLevel);
    long descriptor = memory.readDescriptor(tablePfn, index);
    if (!format.isValid(descriptor, leafLevel)) {
      return;
    }
    long pfn = format.outputPa(descriptor, leafLevel) >>> PhysicalMemory.FRAME_SHIFT;
    int flags = format.flags(descriptor, leafLevel);
    int childFlags = flags & ~PteFlags.ACCESSED;
    int runPages = 1 << format.contiguousShift(descriptor, leafLevel);
    if (runPages > 1 && anyPinned(pfn & -runPages, runPages)) {
      // a pinned page of the block is copied for the child, so the child's block is not one
      // folio's consecutive pages: its PTEs are written one by one, without the contiguous bit
      childFlags &= ~PteFlags.CONTIGUOUS;
    }
    if (parts.zeroPfns().isZero(pfn)) {
      machine.stats().addKernelCounter("forkZeroPtesCopied", 1); // no page to count: shared as is
    } else if (parts.pageCache().byPfn(pfn) != null) {
      parts
          .rmap()
          .add(pfn, child, va); // a page-cache page of a private file mapping, read-only already
    } else if (!parts.anonPages().dupForFork(pfn)) {
      // copy_present_page: the parent's page may be pinned, the child gets its own copy now
      machine.charge(core, costs.pageAllocCycles() + costs.pageCopyCycles());
      pfn = memory.allocate(FrameKind.DATA);
      childFlags = vma.flags() | PteFlags.USER | PteFlags.DIRTY;
      machine.stats().addKernelCounter("forkPinnedCopies", 1);
    } else if ((flags & PteFlags.WRITE) != 0) {
      // wrprotect the parent in place: removing permission, flushed by flush_tlb_mm at the end
      memory.writeDescriptor(
          tablePfn, index, format.withFlags(descriptor, leafLevel, flags & ~PteFlags.WRITE));
      machine.charge(core, costs.pteWriteCycles());
      childFlags &= ~PteFlags.WRITE;
      machine.stats().addKernelCounter("forkPtesWriteProtected", 1);
    }
    parts
        .tables()
        .map(child.rootPfn(), va, pfn << PhysicalMemory.FRAME_SHIFT, leafLevel, childFlags, core);
    machine.stats().addKernelCounter("forkPtesCopied", 1);
  }
}
