package org.mmuemu.kernel.arch.x86;

/**
 * One mm's x86 TLB state, Linux's {@code mm->context} TLB fields and {@code mm_cpumask}: a ctx_id
 * never reused, the flush generation ({@code tlb_gen}, bumped by every flush request after the page
 * tables changed), the CPUs that may hold its translations (set on switch, cleared lazily), and the
 * INVLPGB global ASID with its transition flag. Kept in {@link
 * org.mmuemu.kernel.mm.Mm#archState()}. Confined to the simulation thread.
 */
final class X86MmContext {
  final long ctxId;
  long tlbGen;
  final boolean[] cpumask;

  /** The earliest cycle at which a shootdown may ask CPUs that left the mm to trim themselves. */
  long nextTrimCycle;

  /** Global ASID (INVLPGB), or 0 while the mm uses per-CPU dynamic ASIDs. */
  int globalAsid;

  /** CPUs may still run the mm on a dynamic ASID although it has a global one. */
  boolean asidTransition;

  X86MmContext(long ctxId, int cpus) {
    this.ctxId = ctxId;
    this.cpumask = new boolean[cpus];
  }

  boolean hasCpuOtherThan(int cpu) {
    for (int other = 0; other < cpumask.length; other++) {
      if (other != cpu && cpumask[other]) {
        return true;
      }
    }
    return false;
  }
}
