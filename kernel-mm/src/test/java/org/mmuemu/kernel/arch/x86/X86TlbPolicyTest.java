package org.mmuemu.kernel.arch.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmuemu.kernel.arch.x86.RoundCostX86Kernel.DATA_VA;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.mem.PhysicalMemory;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.mm.Mm;

/**
 * Linux's x86 policy state machine (arch/x86/mm/tlb.c; DOMAIN.md §5.2-5.7): dynamic ASIDs on PCIDs,
 * the tlb_gen catch-up (partial versus full), lazy TLB, mm_cpumask trimming, PTI's PCID pair,
 * INVLPGB with global ASIDs, and the 2018 paging-structure-cache bug as a variant.
 */
final class X86TlbPolicyTest {

  // ---------------------------------------------------------------------------------------
  // dynamic ASIDs

  @Test
  void sixDynamicAsids_perCpu_reusedWithoutFlush_andRecycledRoundRobinWithFlush() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(1);
    Mm[] mms = new Mm[7];
    for (int i = 0; i < mms.length; i++) {
      mms[i] = f.process(1);
    }
    f.kernel.switchTo(0, mms[0]);
    assertThat(f.machine.core(0).context().asid())
        .as("ASID 1, PCID 2 (ASID 0 is init_mm's)")
        .isEqualTo(2);
    for (int i = 1; i < 5; i++) {
      f.kernel.switchTo(0, mms[i]);
    }
    assertThat(f.count("MOV CR3")).isEqualTo(5);

    f.kernel.switchTo(0, mms[0]);
    assertThat(f.count("MOV CR3 NOFLUSH"))
        .as("mm 0 still owns its slot, at its generation")
        .isEqualTo(1);
    assertThat(f.machine.core(0).context().asid()).isEqualTo(2);

    f.kernel.switchTo(0, mms[5]); // slot 0 (init_mm's) after wrapping
    assertThat(f.machine.core(0).context().asid()).isEqualTo(1);
    f.kernel.switchTo(0, mms[6]); // slot 1: evicts mm 0
    assertThat(f.machine.core(0).context().asid()).isEqualTo(2);
    f.kernel.switchTo(0, mms[0]);
    assertThat(f.count("MOV CR3")).as("mm 0 lost its slot: a new one, flushed").isEqualTo(8);
    assertThat(f.machine.core(0).context().asid()).isEqualTo(3);
  }

  @Test
  void pcidTaggedEntries_surviveAContextSwitchAndBack() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(1);
    Mm a = f.process(1);
    Mm b = f.process(1);
    f.runAndTouch(0, a, 1);
    f.runAndTouch(0, b, 1);
    long walks = f.machine.stats().walks();

    f.kernel.switchTo(0, a);
    f.machine.access(0, DATA_VA, 8, AccessKind.WRITE);

    assertThat(f.machine.stats().walks())
        .as("a's translation was kept under its PCID")
        .isEqualTo(walks);
  }

  @Test
  void slotBehindTheMmsGeneration_isFlushedWhenReused() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(2);
    Mm a = f.process(1);
    Mm b = f.process(1);
    f.runAndTouch(0, a, 1);
    f.runAndTouch(1, a, 1);
    f.kernel.switchTo(1, b); // core 1 leaves a; its bit stays in a's cpumask
    f.policy.flushTlbRange(0, a, DATA_VA, DATA_VA + 4096, 12, true);
    long flushes = f.count("MOV CR3");

    f.kernel.switchTo(1, a);

    assertThat(f.count("MOV CR3"))
        .as("core 1's slot for a missed a generation")
        .isEqualTo(flushes + 1);
  }

  // ---------------------------------------------------------------------------------------
  // tlb_gen and lazy TLB

  @Test
  void oneGenerationBehind_catchesUpByPage_moreBehind_byAFullFlush() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(2);
    Mm mm = f.process(4);
    f.runAndTouch(0, mm, 4);
    f.runAndTouch(1, mm, 4);
    long cr3 = f.count("MOV CR3");

    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);
    assertThat(f.count("INVLPG")).isEqualTo(2);
    assertThat(f.policy.cpu(1).tlbGens[f.policy.cpu(1).loadedAsid])
        .isEqualTo(f.policy.context(mm).tlbGen);

    // Core 1 runs a kernel thread: skipped by the next two shootdowns, it falls two generations
    // behind.
    f.policy.enterLazyTlb(1);
    f.policy.flushTlbRange(0, mm, DATA_VA + 4096, DATA_VA + 8192, 12, true);
    f.policy.flushTlbRange(0, mm, DATA_VA + 8192, DATA_VA + 12288, 12, true);
    assertThat(f.machine.stats().ipis()).as("lazy CPUs are not interrupted").isEqualTo(1);
    assertThat(f.count("INVLPG")).isEqualTo(4);
    assertThat(f.cached(1, DATA_VA + 8192)).as("stale until it catches up").isTrue();

    f.kernel.switchTo(1, mm);

    assertThat(f.count("MOV CR3")).as("the same ASID reloaded with a flush").isEqualTo(cr3 + 1);
    assertThat(f.cached(1, DATA_VA + 8192)).isFalse();
    assertThat(f.cached(1, DATA_VA + 3 * 4096)).as("a full flush of the PCID").isFalse();
  }

  @Test
  void twoGenerationsBehind_atTheInterrupt_flushesThePcid_notThePages() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(2);
    Mm mm = f.process(4);
    f.runAndTouch(0, mm, 4);
    f.runAndTouch(1, mm, 4);
    long cr3 = f.count("MOV CR3");
    // Another CPU's flush request bumped the generation; its IPIs have not arrived yet.
    f.policy.context(mm).tlbGen++;

    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);

    assertThat(f.count("INVLPG"))
        .as("a partial flush would skip the other request's pages")
        .isZero();
    assertThat(f.count("MOV CR3") - cr3).isEqualTo(2);
    assertThat(f.cached(1, DATA_VA + 3 * 4096)).isFalse();
    assertThat(f.policy.cpu(1).tlbGens[f.policy.cpu(1).loadedAsid])
        .isEqualTo(f.policy.context(mm).tlbGen);
  }

  @Test
  void freedPageTables_interruptLazyCpusToo_whichSwitchToInitMm() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(2);
    Mm mm = f.process(1);
    f.runAndTouch(0, mm, 1);
    f.runAndTouch(1, mm, 1);
    f.policy.enterLazyTlb(1);

    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, false);

    assertThat(f.machine.stats().ipis()).isEqualTo(1);
    assertThat(f.policy.cpu(1).loadedMm).isSameAs(f.policy.initMm());
    assertThat(f.machine.core(1).context().asid()).as("init_mm's PCID").isEqualTo(1);
  }

  @Test
  void coreWhoseProgramEnded_goesLazy_andLaterShootdownsSkipIt() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(2);
    Mm mm = f.process(1);
    int[] steps = new int[1];
    CoreProgram initiator =
        core -> {
          if (steps[0]++ == 0) {
            f.runAndTouch(core, mm, 1);
            f.machine.charge(core, 100_000); // outlive core 1's thread
            return true;
          }
          f.policy.flushTlbRange(core, mm, DATA_VA, DATA_VA + 4096, 12, true);
          return false;
        };
    CoreProgram shortThread =
        core -> {
          f.runAndTouch(core, mm, 1);
          return false;
        };

    f.machine.run(new CoreProgram[] {initiator, shortThread}, () -> false);

    assertThat(f.policy.cpu(1).isLazy).isTrue();
    assertThat(f.machine.stats().ipis()).as("the idle CPU is skipped").isZero();
    assertThat(f.cached(1, DATA_VA))
        .as("it keeps the entry until it switches back and catches up")
        .isTrue();
  }

  @Test
  void cpuThatLeftTheMm_isTrimmedFromItsCpumask_atMostOncePerSecond_fromOneSecondOn() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(3);
    Mm a = f.process(1);
    Mm b = f.process(1);
    f.runAndTouch(0, a, 1);
    f.runAndTouch(1, a, 1);
    f.runAndTouch(2, a, 1);
    f.kernel.switchTo(2, b);
    assertThat(f.policy.context(a).cpumask[2]).isTrue();
    long cyclesPerSecond = (long) (f.machine.spec().frequencyGHz() * 1e9);

    f.policy.flushTlbRange(0, a, DATA_VA, DATA_VA + 4096, 12, true);
    assertThat(f.machine.stats().ipis())
        .as("next_trim_cpumask starts one second after the mm: core 2 is skipped")
        .isEqualTo(1);
    assertThat(f.policy.context(a).cpumask[2]).isTrue();

    f.machine.charge(0, cyclesPerSecond + cyclesPerSecond / 100);
    f.policy.flushTlbRange(0, a, DATA_VA, DATA_VA + 4096, 12, true);
    assertThat(f.machine.stats().ipis())
        .as("a second later core 2 is interrupted once, to trim itself")
        .isEqualTo(3);
    assertThat(f.policy.context(a).cpumask[2]).isFalse();

    f.kernel.switchTo(2, a);
    f.kernel.switchTo(2, b);
    f.policy.flushTlbRange(0, a, DATA_VA, DATA_VA + 4096, 12, true);
    assertThat(f.machine.stats().ipis())
        .as("no trim within a second: core 2 is skipped")
        .isEqualTo(4);
    assertThat(f.policy.context(a).cpumask[2]).isTrue();
  }

  @Test
  void onlyThisCpuInTheMask_flushesLocally_withoutIpis() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(4);
    Mm mm = f.process(2);
    f.runAndTouch(0, mm, 2);

    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 8192, 12, true);

    assertThat(f.machine.stats().ipis()).isZero();
    assertThat(f.count("INVLPG")).isEqualTo(2);
    assertThat(f.cached(0, DATA_VA)).isFalse();
  }

  // ---------------------------------------------------------------------------------------
  // PTI

  @Test
  void pti_userRunsOnTheUserPcid_andAPageFlushAlsoReachesIt() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(2, Map.of(), Map.of("x86Pti", "on"));
    Mm mm = f.process(1);
    f.runAndTouch(0, mm, 1);
    f.runAndTouch(1, mm, 1);
    assertThat(f.machine.core(1).context().asid())
        .as("uPCID = kPCID 2 | 1 << 11")
        .isEqualTo(2 | 2048);
    assertThat(f.cached(1, DATA_VA)).isTrue();
    long noflush = f.count("MOV CR3 NOFLUSH");

    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);

    assertThat(f.count("INVLPG")).as("kernel PCID, current while in the kernel").isEqualTo(2);
    assertThat(f.count("INVPCID type 0")).as("the user PCID of each CPU").isEqualTo(2);
    assertThat(f.count("MOV CR3 NOFLUSH") - noflush)
        .as("kernel entry and exit on both CPUs")
        .isEqualTo(4);
    assertThat(f.machine.core(1).context().asid()).isEqualTo(2 | 2048);
    assertThat(f.cached(1, DATA_VA)).isFalse();
  }

  @Test
  void pti_fullFlush_defersTheUserPcidFlushToTheReturnToUser() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(1, Map.of(), Map.of("x86Pti", "on"));
    Mm mm = f.process(40);
    f.runAndTouch(0, mm, 40);
    long flushes = f.count("MOV CR3");

    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 40 * 4096L, 12, true);

    assertThat(f.count("MOV CR3") - flushes)
        .as("kernel PCID now, user PCID on the way out")
        .isEqualTo(2);
    assertThat(f.cached(0, DATA_VA + 39 * 4096L)).isFalse();
  }

  // ---------------------------------------------------------------------------------------
  // INVLPGB

  @Test
  void invlpgb_kernelRanges_needNoIpis() {
    RoundCostX86Kernel f =
        new RoundCostX86Kernel(4, Map.of("invlpgb", true, "invlpgbMaxPages", 8), Map.of());
    long kernelVa = 0xFFFF_C900_0000_0000L;

    f.policy.flushTlbKernelRange(0, kernelVa, kernelVa + 20 * 4096L);
    assertThat(f.machine.stats().ipis()).isZero();
    assertThat(f.count("INVLPGB")).as("20 pages in chunks of 8").isEqualTo(3);
    assertThat(f.count("TLBSYNC")).isEqualTo(1);

    f.policy.flushTlbKernelRange(0, kernelVa, kernelVa + 40 * 4096L);
    assertThat(f.count("INVLPGB ALL")).isEqualTo(1);
    assertThat(f.machine.stats().ipis()).isZero();
  }

  @Test
  void invlpgb_mmActiveOnMoreThanThreeCpus_getsAGlobalAsid_thenFlushesByBroadcast() {
    RoundCostX86Kernel f = new RoundCostX86Kernel(5, Map.of("invlpgb", true), Map.of());
    Mm mm = f.process(1);
    for (int core = 0; core < 5; core++) {
      f.runAndTouch(core, mm, 1);
    }
    // consider_global_asid samples when the mm's id matches jiffies modulo 32 (1 GHz: 1e6 cycles a
    // jiffy).
    long jiffy = 1_000_000;
    for (int core = 0; core < 5; core++) {
      f.machine.clocks().waitUntil(core, (32 + mm.id()) * jiffy + 10);
    }
    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);
    assertThat(f.policy.context(mm).globalAsid).as("above the first 6 dynamic ASIDs").isEqualTo(6);
    long ipis = f.machine.stats().ipis();

    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);
    assertThat(f.machine.stats().ipis() - ipis)
        .as("transition: stragglers are interrupted to switch")
        .isEqualTo(4);
    for (int core = 0; core < 5; core++) {
      assertThat(f.machine.core(core).context().asid()).isEqualTo(7);
    }
    ipis = f.machine.stats().ipis();
    f.runAndTouch(3, mm, 1);
    assertThat(f.cached(3, DATA_VA)).isTrue();

    f.machine.actOn(0); // the initiator acts: a check of other cores judges them at its time
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + 4096, 12, true);

    assertThat(f.machine.stats().ipis()).as("a broadcast, no IPIs").isEqualTo(ipis);
    assertThat(f.cached(3, DATA_VA)).isFalse();
    assertThat(f.count("TLBSYNC")).isEqualTo(2);
    // invlpgb_flush_user_nr_nosync: PCID + VA even for a leaf-only flush, never final-only
    assertThat(f.count("INVLPGB FINAL_ONLY")).isZero();
    long invlpgbs = f.count("INVLPGB");

    f.machine.actOn(0);
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + (4L << 20), 21, true);
    assertThat(f.count("INVLPGB") - invlpgbs)
        .as("a PMD stride: one INVLPGB with the 2 MiB stride bit covers both strides")
        .isEqualTo(1);

    f.machine.actOn(0);
    f.policy.flushTlbRange(0, mm, DATA_VA, DATA_VA + (2L << 30), 30, true);
    assertThat(f.count("INVLPGB") - invlpgbs - 1)
        .as("above the PMD stride: one single-page INVLPGB per 1 GiB stride")
        .isEqualTo(2);
  }

  // ---------------------------------------------------------------------------------------
  // DOMAIN.md §5.7: freeing a page table still cached in the paging-structure caches

  private static long scenario(String variant) {
    RoundCostX86Kernel f =
        new RoundCostX86Kernel(2, Map.of(), Map.of("x86FreePteTableFlush", variant));
    long root = f.policy.initMm().rootPfn();
    long x = 0xFFFF_C900_0020_0000L;
    f.machine.actOn(0);
    f.kernel
        .tables()
        .map(
            root,
            x,
            f.machine.memory().allocate(FrameKind.DATA) << PhysicalMemory.FRAME_SHIFT,
            3,
            PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY,
            0);
    // vunmap X; flush_tlb_kernel_range: the leaf and every PSC entry are gone, the PTE table stays.
    f.kernel.tables().clearLeaf(root, x, 0);
    f.policy.flushTlbKernelRange(0, x, x + 4096);
    // CPU 1 walks near X, after the flush: the PMD entry is present, so its PDE cache learns PMD(X)
    // -> T.
    f.machine.clocks().waitUntil(1, f.machine.now(0));
    f.machine.actOn(1);
    assertThat(f.machine.translate(1, x + 4096, AccessKind.READ)).isEqualTo(-1);
    // CPU 0 installs a huge mapping over X: pmd_free_pte_page frees T, which is reused.
    f.machine.actOn(0);
    assertThat(f.kernel.arch().kernelMappings().pmdFreePteTable(0, x, core -> {})).isTrue();
    f.machine.memory().allocate(FrameKind.DATA);
    f.machine.clocks().waitUntil(1, f.machine.now(0)); // core 1 walks after core 0 freed the table
    f.machine.actOn(1);
    f.machine.translate(1, x + 8192, AccessKind.READ);
    return f.machine.oracle().count(ViolationKind.FREED_TABLE_WALK);
  }

  @Test
  void freePteTable_fixedVariant_flushesFirst_soNoWalkReachesTheFreedTable() {
    assertThat(scenario("flush")).isZero();
  }

  @Test
  void freePteTable_2018Variant_leavesAPdeCacheEntryPointingAtTheFreedTable() {
    assertThat(scenario("noFlush")).isPositive();
  }
}
