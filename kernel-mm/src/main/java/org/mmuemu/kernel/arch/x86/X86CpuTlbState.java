package org.mmuemu.kernel.arch.x86;

import org.mmuemu.kernel.mm.Mm;

/**
 * One CPU's TLB bookkeeping, Linux's {@code cpu_tlbstate} and {@code cpu_tlbstate_shared}
 * (arch/x86/include/asm/tlbflush.h): which mm is loaded and under which ASID, the six dynamic ASID
 * slots with the mm each last held and the generation its TLB has caught up to, the lazy-TLB flag,
 * and the PTI bookkeeping. Confined to the simulation thread.
 */
final class X86CpuTlbState {
  /** Linux's TLB_NR_DYN_ASIDS. */
  static final int DYNAMIC_ASIDS = 6;

  /** The loaded user mm, or null when init_mm (kernel page tables only) is loaded. */
  Mm loadedMm;

  /** ASID (0-based) of the loaded mm: a dynamic slot, or a global ASID (INVLPGB). */
  int loadedAsid;

  /** Round-robin cursor over the dynamic slots; slot 0 is init_mm's at boot. */
  int nextAsid = 1;

  /** Per dynamic slot: the ctx_id of the mm it last held (0: none). */
  final long[] ctxIds = new long[DYNAMIC_ASIDS];

  /** Per dynamic slot: the mm generation this CPU's TLB has caught up to for that mm. */
  final long[] tlbGens = new long[DYNAMIC_ASIDS];

  /** Running a kernel thread on the borrowed {@link #loadedMm} (enter_lazy_tlb). */
  boolean isLazy;

  /** PTI: the other dynamic slots must be flushed before they are used again. */
  boolean invalidateOther;

  /** PTI: bit per dynamic ASID whose user PCID must be flushed at the next return to user. */
  int userPcidFlushMask;

  /** PTI: the CPU runs user code (CR3 holds the user PCID); false while in the kernel. */
  boolean inUser;

  /** The generation of the loaded dynamic slot (0 for a global ASID, which has no slot). */
  long loadedSlotGen() {
    return loadedAsid < DYNAMIC_ASIDS ? tlbGens[loadedAsid] : 0;
  }
}
