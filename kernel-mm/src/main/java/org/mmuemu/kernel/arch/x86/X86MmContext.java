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

  /**
   * Linux {@code next_trim_cpumask}: the jiffy after which a shootdown asks CPUs that left the mm
   * to drop out of its cpumask; set one second ({@code HZ}) past the mm's first use, as {@code
   * init_new_context} sets it one second past its creation.
   */
  long nextTrimJiffies = -1;

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
