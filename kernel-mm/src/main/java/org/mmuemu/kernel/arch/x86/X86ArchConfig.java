package org.mmuemu.kernel.arch.x86;

import java.util.ArrayList;
import java.util.List;
import org.mmuemu.core.config.ConfigProblem;
import org.mmuemu.kernel.arch.ArchMachine;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.config.KernelVariants;

/**
 * The part of the kernel config x86's arch code reads.
 *
 * @param pti variant {@code x86Pti}: page-table isolation, a user/kernel PCID pair per mm
 * @param flushBeforeFreeingPteTable variant {@code x86FreePteTableFlush}: {@code flush} (true, the
 *     2018 fix) or {@code noFlush}
 * @param singlePageFlushCeilingPages {@code tlb_single_page_flush_ceiling}
 * @param pteWriteCycles one descriptor store
 * @param pageFreeCycles freeing one page (a page-table page)
 * @param waitForFlushCompletion variant {@code tlbFlushWait}: a user flush waits for the IPI
 *     acknowledgements or {@code TLBSYNC} (true, Linux) or leaves that to the caller's completion
 *     point
 * @param flushCallCycles the software of one {@code flush_tlb_mm_range} call on its initiator
 */
public record X86ArchConfig(
    boolean pti,
    boolean flushBeforeFreeingPteTable,
    long singlePageFlushCeilingPages,
    long pteWriteCycles,
    long pageFreeCycles,
    boolean waitForFlushCompletion,
    long flushCallCycles) {

  /** Takes x86's part of {@code config}. */
  public static X86ArchConfig from(KernelConfig config) {
    return new X86ArchConfig(
        config.variants().x86Pti().on(),
        config.variants().x86FreePteTableFlush() == KernelVariants.FreePteTableFlush.FLUSH,
        config.costs().tlbSinglePageFlushCeilingPages(),
        config.costs().pteWriteCycles(),
        config.costs().pageFreeCycles(),
        config.variants().tlbFlushWait().waits(),
        config.costs().flushCallCycles());
  }

  /**
   * x86's config checks: the arm64-only variants must stay at their defaults (they would change
   * nothing).
   */
  public static List<ConfigProblem> check(ArchMachine machine, KernelConfig config) {
    List<ConfigProblem> problems = new ArrayList<>();
    if (config.variants().vmapContpte().on()) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/vmapContpte", "\"on\"", "off on an x86 machine (arm64 only)"));
    }
    if (!config.variants().arm64Contpte().on()) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/arm64Contpte", "\"off\"", "auto on an x86 machine (arm64 only)"));
    }
    if (config.variants().lazyMmuBarrierBatching().on()) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/lazyMmuBarrierBatching",
              "\"on\"",
              "off on an x86 machine (arm64 only)"));
    }
    if (config.variants().arm64ReclaimTlbFlush() != KernelVariants.ReclaimTlbFlush.BATCHED) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/arm64ReclaimTlbFlush",
              "\"perPage\"",
              "batched on an x86 machine (arm64 only)"));
    }
    if (!config.variants().asidRolloverFlush().flushes()) {
      problems.add(
          ConfigProblem.expected(
              "/kernel/variants/asidRolloverFlush",
              "\"none\"",
              "pending on an x86 machine (arm64 only)"));
    }
    return problems;
  }
}
