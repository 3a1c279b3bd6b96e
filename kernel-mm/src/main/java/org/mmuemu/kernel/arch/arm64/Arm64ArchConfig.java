package org.mmuemu.kernel.arch.arm64;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.kernel.arch.ArchMachine;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelVariants;

/**
 * The part of the kernel config arm64's arch code reads.
 *
 * @param lockCycles an uncontended lock (the ASID allocator's slow path)
 * @param pteWriteCycles one descriptor store
 * @param pageFreeCycles freeing one page (a page-table page)
 * @param contpteVmap variant {@code vmapContpte}: huge vmalloc of 64 KiB to 2 MiB as contiguous
 *     PTEs
 * @param contpteUser variant {@code arm64Contpte=auto}: user large folios mapped, folded and
 *     unfolded as contiguous PTEs
 * @param lazyMmuBarrierBatching variant {@code lazyMmuBarrierBatching}: kernel PTE barriers once
 *     per lazy-MMU section
 * @param waitForFlushCompletion variant {@code tlbFlushWait}: a user flush ends with {@code DSB
 *     ISH} (true, Linux) or returns after its TLBIs and leaves the DSB to the caller's completion
 *     point
 * @param batchedReclaimFlush variant {@code arm64ReclaimTlbFlush=batched}: reclaim's TLBIs are
 *     waited for once per batch
 * @param flushCallCycles the software of one user flush call ({@code flush_tlb_range}, {@code
 *     flush_tlb_page}, {@code flush_tlb_mm}) on its initiator
 */
public record Arm64ArchConfig(
    long lockCycles,
    long pteWriteCycles,
    long pageFreeCycles,
    boolean contpteVmap,
    boolean contpteUser,
    boolean lazyMmuBarrierBatching,
    boolean waitForFlushCompletion,
    boolean batchedReclaimFlush,
    long flushCallCycles,
    boolean asidRolloverFlush) {

  /** Takes arm64's part of {@code config}. */
  public static Arm64ArchConfig from(KernelConfig config) {
    return new Arm64ArchConfig(
        config.costs().lockCycles(),
        config.costs().pteWriteCycles(),
        config.costs().pageFreeCycles(),
        config.variants().vmapContpte().on(),
        config.variants().arm64Contpte().on(),
        config.variants().lazyMmuBarrierBatching().on(),
        config.variants().tlbFlushWait().waits(),
        config.variants().arm64ReclaimTlbFlush() == KernelVariants.ReclaimTlbFlush.BATCHED,
        config.costs().flushCallCycles(),
        config.variants().asidRolloverFlush().flushes());
  }

  /**
   * arm64's config checks: Linux's ASID allocator needs more ASIDs than CPUs plus one (ASID 0 and
   * one reserved per CPU at rollover), so a machine with too many cores for its ASID width could
   * not boot; the x86-only variants must stay at their defaults (they would change nothing).
   */
  public static List<ConfigProblem> check(ArchMachine machine, KernelConfig config) {
    List<ConfigProblem> problems = new ArrayList<>();
    long asids = 1L << machine.asidBits();
    if (machine.asidBits() > 0 && machine.cores() + 1 >= asids) {
      problems.add(
          ConfigProblem.expected(
              "/cores",
              machine.cores(),
              "fewer than "
                  + (asids - 1)
                  + ": Linux's arm64 ASID allocator needs more than cores + 1 of the "
                  + asids
                  + " ASIDs that asidBits "
                  + machine.asidBits()
                  + " gives"));
    }
    KernelVariants variants = config.variants();
    if (variants.x86Pti().on()) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/x86Pti", "\"on\"", "off on an arm64 machine (x86 only)"));
    }
    if (variants.x86FreePteTableFlush() != KernelVariants.FreePteTableFlush.FLUSH) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/x86FreePteTableFlush",
              "\"noFlush\"",
              "flush on an arm64 machine (x86 only)"));
    }
    return problems;
  }
}
