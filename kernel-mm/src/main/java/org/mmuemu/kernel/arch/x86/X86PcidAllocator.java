package org.mmuemu.kernel.arch.x86;

import org.mmuemu.kernel.mm.Mm;

/**
 * Linux x86's address-space identifiers (arch/x86/mm/tlb.c): the mm context ids, the six dynamic
 * ASIDs per CPU chosen at switch_mm ({@code choose_new_asid}), the global ASIDs that
 * INVLPGB-capable CPUs give busy mms ({@code allocate_global_asid}), and the PCIDs they run as:
 * ASID {@code n} is kernel PCID {@code n + 1} and, with PTI, user PCID {@code (n + 1) | 1 << 11}.
 *
 * <p>Pure bookkeeping: the flushes a choice implies are the policy's ({@link X86TlbPolicy}). {@code
 * // MODEL:} global ASIDs are never freed. Confined to the simulation thread.
 */
final class X86PcidAllocator {
  /** X86_CR3_PTI_PCID_USER_BIT. */
  static final int PTI_USER_PCID_BIT = 11;

  private final boolean pcid;
  private final int cpus;
  private final int maxAsidAvailable;
  private final boolean[] globalAsidUsed;
  private int lastGlobalAsid;
  private long lastCtxId;

  /**
   * @param pcid the CPU has PCIDs (else every switch flushes and every PCID is 0)
   * @param pti page-table isolation halves the ASID space (user PCIDs take the upper half)
   */
  X86PcidAllocator(boolean pcid, boolean pti, int cpus) {
    this.pcid = pcid;
    this.cpus = cpus;
    this.maxAsidAvailable = (1 << (12 - (pti ? 1 : 0))) - 2;
    this.globalAsidUsed = new boolean[maxAsidAvailable];
    this.lastGlobalAsid = X86CpuTlbState.DYNAMIC_ASIDS - 1;
  }

  /** {@code kern_pcid(asid)}. */
  int kernelPcid(int asid) {
    return pcid ? asid + 1 : 0;
  }

  /** {@code user_pcid(asid)}. */
  int userPcid(int asid) {
    return kernelPcid(asid) | (1 << PTI_USER_PCID_BIT);
  }

  static boolean isGlobalAsid(int asid) {
    return asid >= X86CpuTlbState.DYNAMIC_ASIDS;
  }

  /** The mm's context ({@code mm->context}), created with the next context id on first use. */
  X86MmContext context(Mm mm) {
    Object state = mm.archState();
    if (state == null) {
      X86MmContext created = new X86MmContext(++lastCtxId, cpus);
      mm.setArchState(created);
      return created;
    }
    return (X86MmContext) state;
  }

  /**
   * Linux {@code choose_new_asid}: the mm's global ASID; else the dynamic slot that last held the
   * mm, flushing only when its generation is behind; else the next slot round-robin, flushed.
   *
   * @return {@code asid << 1 | needFlush}
   */
  long chooseNewAsid(X86CpuTlbState cpu, X86MmContext ctx, long nextGen) {
    if (!pcid) {
      return 1;
    }
    if (ctx.globalAsid != 0) {
      return (long) ctx.globalAsid << 1;
    }
    if (cpu.invalidateOther) {
      for (int asid = 0; asid < X86CpuTlbState.DYNAMIC_ASIDS; asid++) {
        if (asid != cpu.loadedAsid) {
          cpu.ctxIds[asid] = 0;
        }
      }
      cpu.invalidateOther = false;
    }
    for (int asid = 0; asid < X86CpuTlbState.DYNAMIC_ASIDS; asid++) {
      if (cpu.ctxIds[asid] == ctx.ctxId) {
        return (long) asid << 1 | (cpu.tlbGens[asid] < nextGen ? 1 : 0);
      }
    }
    int asid = cpu.nextAsid++;
    if (asid >= X86CpuTlbState.DYNAMIC_ASIDS) {
      asid = 0;
      cpu.nextAsid = 1;
    }
    return (long) asid << 1 | 1;
  }

  /** The next free global ASID above the last one handed out, or -1 when the space is used up. */
  int tryAllocateGlobalAsid() {
    for (int asid = lastGlobalAsid + 1; asid < maxAsidAvailable; asid++) {
      if (!globalAsidUsed[asid]) {
        globalAsidUsed[asid] = true;
        lastGlobalAsid = asid;
        return asid;
      }
    }
    return -1;
  }

  /**
   * {@code reset_global_asid_space}, after the caller flushed every non-global entry everywhere.
   */
  void resetGlobalAsidSpace() {
    lastGlobalAsid = X86CpuTlbState.DYNAMIC_ASIDS - 1;
  }
}
