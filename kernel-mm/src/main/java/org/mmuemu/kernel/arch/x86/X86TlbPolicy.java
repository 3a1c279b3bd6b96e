package org.mmuemu.kernel.arch.x86;

import org.mmuemu.core.isa.BarrierKind;
import org.mmuemu.core.isa.Invalidation;
import org.mmuemu.core.isa.InvalidationScope;
import org.mmuemu.core.isa.MaintenanceInstructions;
import org.mmuemu.core.machine.IpiHandler;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.kernel.arch.ArchTlbPolicy;
import org.mmuemu.kernel.arch.FlushCompletion;
import org.mmuemu.kernel.call.KernelOperation;
import org.mmuemu.kernel.mm.Mm;

/**
 * Linux's x86 TLB flush policy (arch/x86/mm/tlb.c, 6.15 era; DOMAIN.md §5), over the machine's
 * neutral maintenance operations.
 *
 * <h3>Address spaces</h3>
 *
 * Each CPU has six dynamic ASIDs ({@link X86CpuTlbState#DYNAMIC_ASIDS}); ASID {@code n} runs as
 * PCID {@code n + 1} (the kernel PCID), and with PTI its user half as PCID {@code (n + 1) | 1 <<
 * 11}. {@link #switchMm} (switch_mm_irqs_off) reuses the slot that last held the mm, with a flush
 * only when the slot's generation is behind the mm's, and otherwise takes the next slot round-robin
 * with a flush: a {@code MOV CR3} without or with NOFLUSH. Without PCIDs every switch flushes.
 *
 * <h3>The tlb_gen protocol</h3>
 *
 * A flush request bumps the mm's generation; a CPU catching up flushes only the requested pages
 * when it is exactly one generation behind and the request is the latest, and its whole PCID
 * ({@code MOV CR3}) otherwise; lazy CPUs and CPUs running another mm are skipped (unless page
 * tables were freed, or the once-a-second cpumask trim is due: first one second after the mm's
 * first use, as Linux's {@code init_new_context} sets it) and catch up at their next switch.
 *
 * <p>Concurrent flushes of one mm merge: a CPU whose handler runs after a second request was made
 * is two generations behind, flushes its whole PCID once ({@code x86CatchUpFullFlushes}) and then
 * finds the second request already done. Handlers run at their delivery, so another CPU's request
 * can come in between: {@code writeback}'s one-page {@code folio_mkclean} flushes against the
 * writers' own flushes show it, while munmap's {@code mmap_lock} write hold makes it rare in {@code
 * munmap-storm} (docs/x86.md).
 *
 * <h3>Ranges</h3>
 *
 * {@code tlb_single_page_flush_ceiling} (kernel cost key {@code tlbSinglePageFlushCeilingPages},
 * 33): up to it one INVLPG per page, above it a full flush. Kernel ranges interrupt every online
 * CPU; above the ceiling each does {@code __flush_tlb_all} (INVPCID type 2, or a CR4.PGE toggle
 * without INVPCID).
 *
 * <h3>INVLPGB</h3>
 *
 * Where the ISA has broadcast invalidation, kernel ranges use INVLPGB + TLBSYNC instead of IPIs,
 * and an mm active on more than three CPUs may be given a global ASID after a shootdown (sampled
 * when its id matches the jiffies counter modulo 32); its later flushes are broadcast in the form
 * Linux issues ({@code invlpgb_flush_user_nr_nosync}): PCID + VA, never final-translation-only (so
 * paging-structure caches go too), with the 2 MiB stride bit only for a PMD stride and one page per
 * stride above it.
 *
 * <p>{@code // MODEL:} PTI's CR3 switches are paid where this policy enters the kernel (a flush, an
 * IPI handler, a context switch), not on page faults or other kernel entries; the user half shares
 * the kernel half's page tables (Linux gives it a separate copy). Global ASIDs are never freed (no
 * mm is destroyed), and the threshold does not rise as they run out. Every flush's latency is
 * recorded under the Linux function's name.
 *
 * <p>Confined to the simulation thread.
 */
public final class X86TlbPolicy implements ArchTlbPolicy {
  private static final KernelOperation OP_FLUSH_TLB_RANGE =
      KernelOperation.named("flush_tlb_range");
  private static final KernelOperation OP_FLUSH_TLB_MM = KernelOperation.named("flush_tlb_mm");
  private static final KernelOperation OP_SWITCH_MM_IRQS_OFF =
      KernelOperation.named("switch_mm_irqs_off");
  private static final KernelOperation OP_FLUSH_TLB_KERNEL_RANGE =
      KernelOperation.named("flush_tlb_kernel_range");

  /** Linux's TLB_FLUSH_ALL end marker. */
  static final long FLUSH_ALL = -1L;

  /** log2 of a PMD entry's span, INVLPGB's other stride. */
  private static final int PMD_SHIFT = 21;

  /** Linux's HZ, for the jiffies-based sampling of consider_global_asid and the cpumask trim. */
  static final long HZ = 1000;

  /** consider_global_asid: an mm active on more than this many CPUs gets a global ASID. */
  static final int GLOBAL_ASID_ACTIVE_CPUS = 3;

  private final Machine machine;
  private final MaintenanceInstructions isa;
  private final X86CpuTlbState[] cpus;
  private final Mm initMm;
  private final boolean pcid;
  private final boolean pti;
  private final boolean invlpgb;
  private final long ceilingPages;
  private final long flushCallCycles;
  private final long cyclesPerJiffy;
  private final X86PcidAllocator pcids;
  private final int[] targets;

  // Linux's flush_tlb_info, one per initiating CPU: its IPI handlers read the initiator's, at
  // their own (later) time, while other CPUs may be preparing flushes of their own.
  private static final class FlushInfo {
    Mm mm;
    long startVa;
    long endVa;
    int strideShift;
    long newGen;
    boolean freedTables;
    boolean trimCpumask;
  }

  private final FlushInfo[] infos;
  private final FlushCompletion completion;

  // Each handler runs on its target, which enters the kernel (with PTI: the kernel PCID) and
  // returns.
  private final IpiHandler userFlushHandler;
  private final IpiHandler kernelRangeHandler;
  private final IpiHandler flushAllHandler;

  public X86TlbPolicy(Machine machine, X86ArchConfig config) {
    this.machine = machine;
    this.isa = machine.isa().maintenance();
    this.pcid = machine.isa().regime().asidBits() >= 12;
    this.pti = pcid && config.pti();
    this.invlpgb = pcid && isa.hasBroadcast();
    this.ceilingPages = config.singlePageFlushCeilingPages();
    this.flushCallCycles = config.flushCallCycles();
    this.cyclesPerJiffy = Math.max(1, (long) (machine.spec().frequencyGHz() * 1e9 / HZ));
    this.pcids = new X86PcidAllocator(pcid, pti, machine.coreCount());
    this.targets = new int[machine.coreCount()];
    this.infos = new FlushInfo[machine.coreCount()];
    for (int core = 0; core < infos.length; core++) {
      infos[core] = new FlushInfo();
    }
    this.completion = new FlushCompletion(config.waitForFlushCompletion(), machine.coreCount());
    this.userFlushHandler =
        (target, initiator) -> {
          boolean wasUser = enterKernel(target);
          flushTlbFunc(target, infos[initiator]);
          exitToUser(target, wasUser);
        };
    this.kernelRangeHandler =
        (target, initiator) -> {
          boolean wasUser = enterKernel(target);
          doKernelRangeFlush(target, infos[initiator]);
          exitToUser(target, wasUser);
        };
    this.flushAllHandler =
        (target, initiator) -> {
          boolean wasUser = enterKernel(target);
          doFlushTlbAll(target);
          exitToUser(target, wasUser);
        };

    long kernelRootPfn = machine.core(0).context().kernelRootPa() >>> PhysicalMemory.FRAME_SHIFT;
    this.initMm = new Mm(0, kernelRootPfn, -1);
    this.cpus = new X86CpuTlbState[machine.coreCount()];
    X86MmContext init = context(initMm);
    for (int core = 0; core < cpus.length; core++) {
      X86CpuTlbState cpu = new X86CpuTlbState();
      cpu.loadedMm = initMm;
      cpu.ctxIds[0] = init.ctxId;
      cpus[core] = cpu;
      // Boot state, not a maintenance operation: every CPU runs init_mm on ASID 0.
      machine
          .core(core)
          .context()
          .setUser(kernelRootPfn << PhysicalMemory.FRAME_SHIFT, kernelPcid(0));
    }
  }

  // ---------------------------------------------------------------------------------------
  // identifiers

  int kernelPcid(int asid) {
    return pcids.kernelPcid(asid);
  }

  int userPcid(int asid) {
    return pcids.userPcid(asid);
  }

  private static boolean isGlobalAsid(int asid) {
    return X86PcidAllocator.isGlobalAsid(asid);
  }

  X86MmContext context(Mm mm) {
    X86MmContext ctx = pcids.context(mm);
    if (ctx.nextTrimJiffies < 0) {
      ctx.nextTrimJiffies = jiffies(machine.actingCore()) + HZ;
    }
    return ctx;
  }

  private long jiffies(int core) {
    return machine.now(core) / cyclesPerJiffy;
  }

  X86CpuTlbState cpu(int core) {
    return cpus[core];
  }

  /** The kernel-only address space a CPU runs between user tasks (Linux {@code init_mm}). */
  Mm initMm() {
    return initMm;
  }

  // ---------------------------------------------------------------------------------------
  // context switch and lazy TLB

  @Override
  public void switchMm(int core, Mm previous, Mm next) {
    long start = OP_SWITCH_MM_IRQS_OFF.begin(machine, core, 0);
    enterKernel(core);
    switchMmIrqsOff(core, next);
    exitToUser(core, true);
    OP_SWITCH_MM_IRQS_OFF.end(machine, core, 0, start);
  }

  /**
   * Makes {@code core} run a kernel thread on the mm it has loaded (Linux {@code enter_lazy_tlb}):
   * CR3 keeps the mm, shootdowns skip the CPU unless page tables are freed, and the CPU catches up
   * when it switches back.
   */
  @Override
  public void enterLazyTlb(int core) {
    enterKernel(core);
    X86CpuTlbState cpu = cpus[core];
    if (cpu.loadedMm != initMm) {
      cpu.isLazy = true;
    }
  }

  /** Switches a CPU to init_mm (Linux {@code leave_mm}). */
  public void leaveMm(int core) {
    enterKernel(core);
    switchMmIrqsOff(core, initMm);
  }

  private void switchMmIrqsOff(int core, Mm next) {
    X86CpuTlbState cpu = cpus[core];
    boolean wasLazy = cpu.isLazy;
    cpu.isLazy = false;
    X86MmContext ctx = context(next);
    long nextGen = ctx.tlbGen;
    int newAsid;
    boolean needFlush;
    if (cpu.loadedMm == next) {
      if (ctx.globalAsid != 0 && cpu.loadedAsid != ctx.globalAsid) {
        newAsid = ctx.globalAsid;
        needFlush = false;
      } else if (ctx.globalAsid != 0 || !wasLazy || cpu.loadedSlotGen() == nextGen) {
        return;
      } else {
        // A lazy CPU skipped by shootdowns catches up: reload the same ASID with a flush.
        newAsid = cpu.loadedAsid;
        needFlush = true;
      }
    } else {
      if (next != initMm) {
        ctx.cpumask[core] = true;
      }
      long chosen = pcids.chooseNewAsid(cpu, ctx, nextGen);
      newAsid = (int) (chosen >> 1);
      needFlush = (chosen & 1) != 0;
    }
    if (needFlush) {
      if (!isGlobalAsid(newAsid)) {
        cpu.ctxIds[newAsid] = ctx.ctxId;
        cpu.tlbGens[newAsid] = nextGen;
      }
      invalidateUserAsid(cpu, newAsid);
    }
    machine.writeContext(
        core, next.rootPfn() << PhysicalMemory.FRAME_SHIFT, kernelPcid(newAsid), needFlush);
    cpu.loadedMm = next;
    cpu.loadedAsid = newAsid;
  }

  // ---------------------------------------------------------------------------------------
  // PTI: the user/kernel PCID pair

  /** Kernel entry: with PTI, CR3 moves from the user PCID to the kernel PCID (NOFLUSH). */
  private boolean enterKernel(int core) {
    X86CpuTlbState cpu = cpus[core];
    if (!pti || !cpu.inUser) {
      return false;
    }
    machine.writeContext(
        core,
        cpu.loadedMm.rootPfn() << PhysicalMemory.FRAME_SHIFT,
        kernelPcid(cpu.loadedAsid),
        false);
    cpu.inUser = false;
    return true;
  }

  /**
   * Return to user: with PTI, CR3 moves to the user PCID, flushing it when a flush was deferred to
   * this point ({@code user_pcid_flush_mask}).
   */
  private void exitToUser(int core, boolean toUser) {
    X86CpuTlbState cpu = cpus[core];
    if (!pti || !toUser || cpu.loadedMm == initMm || cpu.isLazy) {
      return;
    }
    int asid = cpu.loadedAsid;
    boolean flush = !isGlobalAsid(asid) && (cpu.userPcidFlushMask & (1 << asid)) != 0;
    if (flush) {
      cpu.userPcidFlushMask &= ~(1 << asid);
    }
    machine.writeContext(
        core, cpu.loadedMm.rootPfn() << PhysicalMemory.FRAME_SHIFT, userPcid(asid), flush);
    cpu.inUser = true;
  }

  private void invalidateUserAsid(X86CpuTlbState cpu, int asid) {
    if (pti && !isGlobalAsid(asid)) {
      cpu.userPcidFlushMask |= 1 << asid;
    }
  }

  // ---------------------------------------------------------------------------------------
  // user ranges

  @Override
  public void flushTlbRange(
      int core, Mm mm, long startVa, long endVa, int strideShift, boolean lastLevel) {
    flushTlbMmRange(core, mm, startVa, endVa, strideShift, !lastLevel, OP_FLUSH_TLB_RANGE);
  }

  @Override
  public void flushTlbMm(int core, Mm mm) {
    flushTlbMmRange(core, mm, 0, FLUSH_ALL, PhysicalMemory.FRAME_SHIFT, true, OP_FLUSH_TLB_MM);
  }

  /**
   * x86 selects {@code MMU_GATHER_MERGE_VMAS}: its {@code tlb_end_vma} does nothing, so an unmap
   * over several VMAs, and the page tables it frees, are flushed once at {@code tlb_finish_mmu}.
   */
  @Override
  public boolean mergesVmas() {
    return true;
  }

  /**
   * x86's own {@code tlb_flush} (arch/x86/include/asm/tlb.h): {@code flush_tlb_mm_range} over the
   * gathered range, or over everything for fullmm / need_flush_all, with the stride and {@code
   * freed_tables} as gathered (so a fullmm teardown that freed no table skips lazy CPUs).
   */
  @Override
  public void tlbFlush(int core, Mm mm, org.mmuemu.kernel.arch.TlbGatherFlush gather) {
    if (gather.fullmm() || gather.needFlushAll()) {
      flushTlbMmRange(
          core, mm, 0, FLUSH_ALL, gather.strideShift(), gather.freedTables(), OP_FLUSH_TLB_MM);
    } else {
      flushTlbMmRange(
          core,
          mm,
          gather.startVa(),
          gather.endVa(),
          gather.strideShift(),
          gather.freedTables(),
          OP_FLUSH_TLB_RANGE);
    }
  }

  private void flushTlbMmRange(
      int core,
      Mm mm,
      long startVa,
      long endVa,
      int strideShift,
      boolean freedTables,
      KernelOperation operation) {
    long start = operation.begin(machine, core, startVa);
    boolean wasUser = enterKernel(core);
    ArchTlbPolicy.chargeFlushCall(machine, core, flushCallCycles);
    X86MmContext ctx = context(mm);
    long newGen = ++ctx.tlbGen;
    FlushInfo info = infos[core];
    setInfo(info, mm, startVa, endVa, strideShift, newGen, freedTables);
    if (ctx.globalAsid != 0) {
      broadcastTlbFlush(core, mm, ctx, info);
    } else if (ctx.hasCpuOtherThan(core)) {
      info.trimCpumask = shouldTrimCpumask(core, ctx);
      flushTlbMulti(core, ctx, info);
      considerGlobalAsid(core, mm, ctx);
    } else if (cpus[core].loadedMm == mm) {
      flushTlbFunc(core, info);
    }
    exitToUser(core, wasUser);
    operation.end(machine, core, startVa, start);
  }

  /**
   * Linux {@code should_trim_cpumask}: once the jiffies counter has passed the mm's {@code
   * next_trim_cpumask}, this shootdown also interrupts CPUs that left the mm, so they drop out of
   * its cpumask, and the next trim is due one second later. Counter: {@code
   * x86CpumaskTrimShootdowns}.
   */
  private boolean shouldTrimCpumask(int core, X86MmContext ctx) {
    long jiffies = jiffies(core);
    if (jiffies <= ctx.nextTrimJiffies) {
      return false;
    }
    ctx.nextTrimJiffies = jiffies + HZ;
    machine.stats().addKernelCounter("x86CpumaskTrimShootdowns", 1);
    return true;
  }

  private void setInfo(
      FlushInfo info,
      Mm mm,
      long startVa,
      long endVa,
      int strideShift,
      long newGen,
      boolean freedTables) {
    info.mm = mm;
    info.strideShift = strideShift;
    info.newGen = newGen;
    info.freedTables = freedTables;
    info.trimCpumask = false;
    long stride = 1L << strideShift;
    long alignedStart = startVa & -stride;
    long alignedEnd = endVa == FLUSH_ALL ? FLUSH_ALL : (endVa + stride - 1) & -stride;
    if (alignedEnd == FLUSH_ALL || ((alignedEnd - alignedStart) >>> strideShift) > ceilingPages) {
      info.startVa = 0;
      info.endVa = FLUSH_ALL;
    } else {
      info.startVa = alignedStart;
      info.endVa = alignedEnd;
    }
  }

  /**
   * Linux native_flush_tlb_multi: interrupt the CPUs of the mask that must flush (all of them when
   * page tables were freed or the mm is changing ASIDs; otherwise only those running the mm, not
   * lazily, plus those due for cpumask trimming), run the local share meanwhile, and wait for every
   * acknowledgement.
   */
  private void flushTlbMulti(int core, X86MmContext ctx, FlushInfo info) {
    boolean all = info.freedTables || ctx.asidTransition;
    int count = 0;
    for (int other = 0; other < cpus.length; other++) {
      if (other != core && ctx.cpumask[other] && (all || shouldFlushTlb(other, info))) {
        targets[count++] = other;
      }
    }
    machine.sendIpis(core, targets, count, userFlushHandler, false);
    if (ctx.cpumask[core] && (all || shouldFlushTlb(core, info))) {
      flushTlbFunc(core, info);
    }
    if (completion.waitNow(core)) {
      machine.waitForIpiAcknowledgements(core);
    }
  }

  private boolean shouldFlushTlb(int core, FlushInfo info) {
    X86CpuTlbState cpu = cpus[core];
    if (cpu.isLazy) {
      return false;
    }
    return info.mm == null || cpu.loadedMm == info.mm || info.trimCpumask;
  }

  /** Linux flush_tlb_func: one CPU catches up with the mm's generation. */
  private void flushTlbFunc(int core, FlushInfo info) {
    X86CpuTlbState cpu = cpus[core];
    Mm loaded = cpu.loadedMm;
    if (info.mm != null && info.mm != loaded) {
      context(info.mm).cpumask[core] = false; // lazily trimmed: this CPU no longer runs the mm
      return;
    }
    if (loaded == initMm) {
      return;
    }
    X86MmContext ctx = context(loaded);
    if ((ctx.globalAsid != 0) != isGlobalAsid(cpu.loadedAsid)) {
      switchMmIrqsOff(core, loaded); // moving to (or from) a global ASID
      return;
    }
    if (isGlobalAsid(cpu.loadedAsid)) {
      return; // kept current by INVLPGB
    }
    if (cpu.isLazy) {
      // Never keep stale paging-structure caches while lazy: switch to init_mm.
      switchMmIrqsOff(core, initMm);
      return;
    }
    long localGen = cpu.tlbGens[cpu.loadedAsid];
    if (info.newGen <= localGen) {
      return;
    }
    long mmGen = ctx.tlbGen;
    if (localGen == mmGen) {
      return;
    }
    if (info.endVa != FLUSH_ALL && info.newGen == localGen + 1 && info.newGen == mmGen) {
      for (long va = info.startVa; va != info.endVa; va += 1L << info.strideShift) {
        flushTlbOneUser(core, va);
      }
      machine.stats().addKernelCounter("x86PartialFlushes", 1);
    } else {
      flushTlbLocal(core);
      machine.stats().addKernelCounter("x86FullFlushes", 1);
      if (info.endVa != FLUSH_ALL) {
        // a range request found this CPU more than one generation behind, or a newer request
        // already made: one full flush catches up with all of them
        machine.stats().addKernelCounter("x86CatchUpFullFlushes", 1);
      }
    }
    cpu.tlbGens[cpu.loadedAsid] = mmGen;
  }

  /**
   * Linux flush_tlb_local: the current PCID by rewriting CR3 (and the user PCID at exit, with PTI).
   */
  private void flushTlbLocal(int core) {
    X86CpuTlbState cpu = cpus[core];
    invalidateUserAsid(cpu, cpu.loadedAsid);
    machine.writeContext(
        core,
        cpu.loadedMm.rootPfn() << PhysicalMemory.FRAME_SHIFT,
        kernelPcid(cpu.loadedAsid),
        true);
  }

  /** Linux flush_tlb_one_user: INVLPG, and with PTI the user PCID by INVPCID type 0 or at exit. */
  private void flushTlbOneUser(int core, long va) {
    int current = machine.core(core).context().asid();
    machine.invalidate(core, Invalidation.local(InvalidationScope.VA), va, va + 4096, current);
    if (!pti) {
      return;
    }
    X86CpuTlbState cpu = cpus[core];
    if (isa.supports(Invalidation.local(InvalidationScope.VA), false)) {
      machine.invalidate(
          core, Invalidation.local(InvalidationScope.VA), va, va + 4096, userPcid(cpu.loadedAsid));
    } else {
      invalidateUserAsid(cpu, cpu.loadedAsid);
    }
  }

  // ---------------------------------------------------------------------------------------
  // INVLPGB and global ASIDs

  private void broadcastTlbFlush(int core, Mm mm, X86MmContext ctx, FlushInfo info) {
    int asid = ctx.globalAsid;
    if (info.endVa == FLUSH_ALL) {
      broadcastToBothPcids(core, Invalidation.broadcast(InvalidationScope.ASID), 0, 0, asid);
    } else {
      // invlpgb_flush_user_nr_nosync: PCID + VA and no final-only flag, so walk caches go too;
      // the stride bit only for a PMD stride, and one page per stride above it
      Invalidation byVa =
          Invalidation.broadcast(InvalidationScope.VA)
              .withStrideShift(
                  info.strideShift == PMD_SHIFT ? PMD_SHIFT : PhysicalMemory.FRAME_SHIFT);
      for (long va = info.startVa; Long.compareUnsigned(va, info.endVa) < 0; ) {
        long strides = 1;
        if (info.strideShift <= PMD_SHIFT) {
          long left = (info.endVa - va) >>> info.strideShift;
          strides = Math.max(1, Math.min(left, isa.broadcastRangeMaxPages()));
        }
        broadcastToBothPcids(core, byVa, va, va + (strides << byVa.strideShift()), asid);
        va += strides << info.strideShift;
      }
    }
    finishAsidTransition(core, mm, ctx, info);
    if (completion.waitNow(core)) {
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE); // TLBSYNC
    }
  }

  @Override
  public void completeDeferredFlush(int core) {
    if (completion.takeOwed(core)) {
      if (machine.awaitingIpiAcknowledgements(core)) {
        machine.waitForIpiAcknowledgements(core);
      }
      if (invlpgb) {
        machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
      }
    }
  }

  /** Issues {@code op} for the kernel PCID of {@code asid} and, with PTI, for its user PCID. */
  private void broadcastToBothPcids(int core, Invalidation op, long vaStart, long vaEnd, int asid) {
    machine.invalidate(core, op, vaStart, vaEnd, kernelPcid(asid));
    if (pti) {
      machine.invalidate(core, op, vaStart, vaEnd, userPcid(asid));
    }
  }

  private void finishAsidTransition(int core, Mm mm, X86MmContext ctx, FlushInfo info) {
    if (!ctx.asidTransition) {
      return;
    }
    for (int other = 0; other < cpus.length; other++) {
      if (ctx.cpumask[other]
          && cpus[other].loadedMm == mm
          && cpus[other].loadedAsid != ctx.globalAsid) {
        flushTlbMulti(core, ctx, info); // makes the stragglers switch to the global ASID
        return;
      }
    }
    ctx.asidTransition = false;
  }

  private void considerGlobalAsid(int core, Mm mm, X86MmContext ctx) {
    if (!invlpgb || ctx.globalAsid != 0) {
      return;
    }
    long jiffies = machine.now(core) / cyclesPerJiffy;
    if ((mm.id() & 0x1f) != (jiffies & 0x1f)) {
      return;
    }
    int active = 0;
    for (X86CpuTlbState cpu : cpus) {
      if (cpu.loadedMm == mm && !cpu.isLazy) {
        active++;
      }
    }
    if (active > GLOBAL_ASID_ACTIVE_CPUS) {
      ctx.globalAsid = allocateGlobalAsid(core);
      ctx.asidTransition = true;
      machine.stats().addKernelCounter("x86GlobalAsidsAssigned", 1);
    }
  }

  private int allocateGlobalAsid(int core) {
    int asid = pcids.tryAllocateGlobalAsid();
    if (asid < 0) {
      // reset_global_asid_space: flush every non-global entry everywhere, then reuse.
      machine.invalidate(core, Invalidation.broadcast(InvalidationScope.ALL_NON_GLOBAL), 0, 0, 0);
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
      pcids.resetGlobalAsidSpace();
      asid = pcids.tryAllocateGlobalAsid();
    }
    if (asid < 0) {
      throw new IllegalStateException("no global ASID left");
    }
    return asid;
  }

  // ---------------------------------------------------------------------------------------
  // kernel ranges

  @Override
  public void flushTlbKernelRange(int core, long startVa, long endVa) {
    long start = OP_FLUSH_TLB_KERNEL_RANGE.begin(machine, core, startVa);
    boolean wasUser = enterKernel(core);
    FlushInfo info = infos[core];
    setInfo(info, null, startVa, endVa, PhysicalMemory.FRAME_SHIFT, 0, false);
    boolean full = info.endVa == FLUSH_ALL;
    if (invlpgb) {
      if (full) {
        machine.invalidate(core, Invalidation.broadcast(InvalidationScope.ALL), 0, 0, 0);
      } else {
        long maxBytes = (long) isa.broadcastRangeMaxPages() << PhysicalMemory.FRAME_SHIFT;
        for (long va = info.startVa; va != info.endVa; ) {
          long end = info.endVa - va > maxBytes ? va + maxBytes : info.endVa;
          machine.invalidate(
              core, Invalidation.broadcast(InvalidationScope.VA_ALL_ASIDS), va, end, 0);
          va = end;
        }
      }
      machine.barrier(core, BarrierKind.BROADCAST_COMPLETE);
    } else {
      // on_each_cpu: every online CPU, lazy and idle ones included.
      int count = 0;
      for (int other = 0; other < cpus.length; other++) {
        if (other != core) {
          targets[count++] = other;
        }
      }
      machine.sendIpis(core, targets, count, full ? flushAllHandler : kernelRangeHandler, false);
      if (full) {
        doFlushTlbAll(core);
      } else {
        doKernelRangeFlush(core, info);
      }
      machine.waitForIpiAcknowledgements(core);
    }
    exitToUser(core, wasUser);
    OP_FLUSH_TLB_KERNEL_RANGE.end(machine, core, startVa, start);
  }

  /**
   * Linux __flush_tlb_all: INVPCID type 2, or a CR4.PGE toggle without INVPCID (the ISA names it).
   */
  private void doFlushTlbAll(int core) {
    machine.invalidate(
        core, Invalidation.local(InvalidationScope.ALL), 0, 0, machine.core(core).context().asid());
  }

  private void doKernelRangeFlush(int core, FlushInfo info) {
    for (long va = info.startVa; va != info.endVa; va += 1L << PhysicalMemory.FRAME_SHIFT) {
      flushTlbOneKernel(core, va);
    }
  }

  /**
   * Linux flush_tlb_one_kernel: with PTI kernel entries are not global, so other PCIDs go stale
   * too.
   */
  private void flushTlbOneKernel(int core, long va) {
    flushTlbOneUser(core, va);
    if (pti) {
      cpus[core].invalidateOther = true;
    }
  }

  /**
   * x86 {@code ptep_clear_flush_young} (arch/x86/mm/pgtable.c): no flush at all. Clearing the A bit
   * without one cannot corrupt anything, and a flush per young PTE would cost reclaim more than the
   * occasional page it mistakes for idle while a cached entry keeps serving it.
   */
  @Override
  public void youngClearedFlush(int core, Mm mm, long va) {}
}
