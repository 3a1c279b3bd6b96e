package org.mmuemu.kernel.arch.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.FrameKind;
import org.mmuemu.core.oracle.ViolationKind;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.arch.KernelArchContext;
import org.mmuemu.kernel.arch.LinuxArch;
import org.mmuemu.kernel.arch.PtdumpLock;
import org.mmuemu.kernel.arch.registry.LinuxArchRegistry;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * What every {@link LinuxArch} must guarantee, whatever its instructions: after a flush no TLB
 * keeps a translation the tables no longer have ({@code UNFLUSHED_ALIAS}); a freed page table is
 * never reachable from a walk cache ({@code FREED_TABLE_WALK}); a kernel range flush covers the
 * range on every core. One subclass per arch; a new arch adds one.
 */
abstract class LinuxArchContractTest {
  private static final long USER_VA = 0x10_0000_0000L;
  private static final int PAGES = 32;
  private static final int CORES = 3;

  /** The ISA id of the arch under test. */
  abstract String isa();

  private Kernel boot() {
    return KernelBoot.on(isa()).cores(CORES).memoryBytes(128L << 20).boot();
  }

  // every core runs mm and has touched every page of the region
  private static Mm processTouchedEverywhere(Kernel kernel) {
    Machine machine = kernel.machine();
    machine.actOn(0);
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + PAGES * 4096L, PteFlags.WRITE, "anon"));
    for (int core = 0; core < CORES; core++) {
      machine.actOn(core);
      kernel.switchTo(core, mm);
      for (int page = 0; page < PAGES; page++) {
        assertThat(machine.access(core, USER_VA + page * 4096L, 8, AccessKind.WRITE)).isTrue();
      }
    }
    machine.actOn(0);
    return mm;
  }

  private Kernel bootKernelThreads() {
    return KernelBoot.on(isa()).cores(CORES).memoryBytes(128L << 20).kernelThreads().boot();
  }

  // every core reads the first {@code pages} pages from va, so its TLBs hold them
  private static void readOnEveryCore(Machine machine, long va, int pages) {
    for (int core = 0; core < machine.coreCount(); core++) {
      machine.actOn(core);
      for (int page = 0; page < pages; page++) {
        machine.access(core, va + page * 4096L, 8, AccessKind.READ);
      }
    }
    machine.actOn(0);
  }

  private static boolean anyCoreTranslates(Machine machine, long va) {
    for (int core = 0; core < machine.coreCount(); core++) {
      int asid = machine.core(core).context().asid();
      for (SetAssociativeTlb tlb : machine.core(core).tlbLevels()) {
        if (tlb.probe(va, asid) >= 0) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void registry_buildsThisArch_forItsIsaId() {
    Kernel kernel = boot();

    assertThat(kernel.arch().isaId()).isEqualTo(isa());
    assertThat(LinuxArchRegistry.isaIds()).contains(isa());
    assertThat(
            Long.compareUnsigned(
                kernel.arch().layout().vmallocStartVa(), kernel.arch().layout().vmallocEndVa()))
        .isNegative();
    assertThat(kernel.arch().layout().threadAlignBytes()).isPositive();
  }

  @Test
  void registry_failsFast_namingTheIsasItKnows() {
    Kernel kernel = boot();
    KernelArchContext context =
        new KernelArchContext(
            kernel.machine(), kernel.tables(), kernel.kernelRootPfn(), new PtdumpLock(true, 0));

    assertThatThrownBy(() -> LinuxArchRegistry.create("riscv", context, KernelConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("riscv")
        .hasMessageContaining(isa());
  }

  @Test
  void afterMunmapsAndMadvise_noTlbKeepsAnUnflushedAlias() {
    Kernel kernel = boot();
    Mm mm = processTouchedEverywhere(kernel);

    kernel.madviseDontneed(0, mm, USER_VA, USER_VA + 8 * 4096L); // the kernel checks its promise
    kernel.munmap(0, mm, USER_VA + 16 * 4096L, USER_VA + 20 * 4096L);

    for (int page = 0; page < 8; page++) {
      assertThat(anyCoreTranslates(kernel.machine(), USER_VA + page * 4096L)).isFalse();
    }
    assertThat(kernel.machine().oracle().count(ViolationKind.UNFLUSHED_ALIAS)).isZero();
  }

  @Test
  void afterARangeFlush_noCoreTranslatesTheRange() {
    Kernel kernel = boot();
    Mm mm = processTouchedEverywhere(kernel);
    for (int page = 0; page < 4; page++) {
      kernel.tables().clearLeaf(mm.rootPfn(), USER_VA + page * 4096L, 0);
    }

    kernel.arch().tlb().flushTlbRange(0, mm, USER_VA, USER_VA + 4 * 4096L, 12, true);

    for (int page = 0; page < 4; page++) {
      assertThat(anyCoreTranslates(kernel.machine(), USER_VA + page * 4096L)).isFalse();
    }
    assertThat(anyCoreTranslates(kernel.machine(), USER_VA + 4 * 4096L)).isTrue();
  }

  @Test
  void freedUserTables_areNeverReachedFromAWalkCache() {
    Kernel kernel = boot();
    Machine machine = kernel.machine();
    Mm mm = processTouchedEverywhere(kernel);

    kernel.munmap(0, mm, USER_VA, USER_VA + PAGES * 4096L); // frees the region's page tables
    for (int i = 0; i < 64; i++) {
      machine.memory().allocate(FrameKind.DATA); // the freed tables' frames are reused
    }
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + PAGES * 4096L, PteFlags.WRITE, "anon"));
    for (int core = 0; core < CORES; core++) {
      machine.actOn(core);
      machine.access(core, USER_VA + 4096L, 8, AccessKind.WRITE);
    }

    assertThat(machine.oracle().count(ViolationKind.FREED_TABLE_WALK)).isZero();
    assertThat(machine.oracle().count(ViolationKind.STALE_TLB_USE)).isZero();
  }

  @Test
  void aPteTableAHugeVmapReplaces_isNeverReachedFromAWalkCache() {
    assertThat(
            freedTableWalksAfterPmdFreePteTable(
                KernelBoot.on(isa()).cores(CORES).memoryBytes(128L << 20).kernelThreads()))
        .isZero();
  }

  /**
   * Every core's walk cache learns a kernel PTE table, which pmd_free_pte_page then frees and
   * memory reuses; cores walk near it again. Returns the FREED_TABLE_WALK reports.
   */
  static long freedTableWalksAfterPmdFreePteTable(KernelBoot boot) {
    Kernel kernel = boot.boot();
    Machine machine = kernel.machine();
    long va = kernel.arch().layout().vmallocStartVa() + (2L << 20); // a 2 MiB slot of its own
    long pfn = machine.memory().allocate(FrameKind.KERNEL);
    kernel.vmalloc(); // the kernel's vmalloc tables exist
    kernel
        .tables()
        .map(
            kernel.kernelRootPfn(),
            va,
            pfn << 12,
            machine.format().levels() - 1,
            PteFlags.WRITE | PteFlags.GLOBAL | PteFlags.ACCESSED | PteFlags.DIRTY,
            0);
    for (int core = 0; core < CORES; core++) {
      machine.actOn(core);
      machine.access(core, va, 8, AccessKind.READ); // every core's walk cache learns the PTE table
    }
    machine.actOn(0);
    kernel.tables().clearLeaf(kernel.kernelRootPfn(), va, 0);
    kernel.arch().tlb().flushTlbKernelRange(0, va, va + 4096);
    for (int core = 1; core < CORES; core++) {
      machine.clocks().waitUntil(core, machine.now(0)); // after core 0's flush, in simulated time
      machine.actOn(core);
      machine.translate(
          core, va + 4096, AccessKind.READ); // a walk near it: the table is cached again
    }
    machine.actOn(0);

    assertThat(kernel.arch().kernelMappings().pmdFreePteTable(0, va, core -> {})).isTrue();
    for (int i = 0; i < 64; i++) {
      machine.memory().allocate(FrameKind.DATA);
    }
    for (int core = 1; core < CORES; core++) {
      machine.clocks().waitUntil(core, machine.now(0)); // after core 0 freed the table
      machine.actOn(core);
      machine.translate(core, va + 8192, AccessKind.READ);
    }
    return machine.oracle().count(ViolationKind.FREED_TABLE_WALK);
  }

  @Test
  void aKernelRangeFlush_coversTheRangeOnEveryCore() {
    Kernel kernel = bootKernelThreads();
    Machine machine = kernel.machine();
    long va = kernel.vmalloc().vmalloc(0, 16 * 4096L);
    readOnEveryCore(machine, va, 16);

    kernel.arch().tlb().flushTlbKernelRange(0, va, va + 8 * 4096L);

    for (int page = 0; page < 8; page++) {
      assertThat(anyCoreTranslates(machine, va + page * 4096L)).as("page " + page).isFalse();
    }
    assertThat(anyCoreTranslates(machine, va + 12 * 4096L)).isTrue();
  }

  @Test
  void afterVmUnmapAliases_noTlbKeepsAFreedVmallocTranslation() {
    Kernel kernel = bootKernelThreads();
    Machine machine = kernel.machine();
    long va = kernel.vmalloc().vmalloc(0, 8 * 4096L);
    readOnEveryCore(machine, va, 1);

    kernel.vmalloc().vfree(0, va); // lazy: no flush yet
    kernel.vmalloc().vmUnmapAliases(0); // the promise the oracle checks

    assertThat(anyCoreTranslates(machine, va)).isFalse();
    assertThat(machine.oracle().count(ViolationKind.UNFLUSHED_ALIAS)).isZero();
  }
}
