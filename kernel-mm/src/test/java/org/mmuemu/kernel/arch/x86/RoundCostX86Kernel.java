package org.mmuemu.kernel.arch.x86;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.testkit.KernelBoot;

/**
 * A booted x86 kernel and its machine, shared by the x86 policy and shootdown tests, with the steps
 * they take on it (a process, running and touching it on a core, aligning clocks, probing a core's
 * TLBs, instruction counts). Its costs are round numbers so every expected cycle can be worked out
 * by hand: IPI send 100, delivery 1000, handler entry 500, acknowledgement 300; INVLPG 200, INVPCID
 * type 0 210, type 1 150, types 2/3 300, MOV CR3 90, MOV CR3 NOFLUSH 40, INVLPGB 60, TLBSYNC 10,
 * INVLPGB completion 700.
 */
final class RoundCostX86Kernel {
  static final long SEND = 100;
  static final long DELIVERY = 1000;
  static final long HANDLER_ENTRY = 500;
  static final long ACK = 300;
  static final long INVLPG = 200;
  static final long INVPCID_ADDRESS = 210;
  static final long INVPCID_ALL = 300;
  static final long MOV_CR3 = 90;
  static final long MOV_CR3_NOFLUSH = 40;
  static final long DATA_VA = 0x10_0000_0000L;

  final Machine machine;
  final Kernel kernel;
  final X86TlbPolicy policy;

  RoundCostX86Kernel(int cores, Map<String, Object> isaExtra, Map<String, String> variants) {
    Map<String, Object> isaConfig = new HashMap<>(isaExtra);
    isaConfig.put(
        "costs",
        Map.of(
            "invlpgCycles",
            INVLPG,
            "invpcidAddressCycles",
            INVPCID_ADDRESS,
            "invpcidContextCycles",
            150,
            "invpcidAllCycles",
            INVPCID_ALL,
            "cr4PgeToggleCycles",
            400,
            "movCr3Cycles",
            MOV_CR3,
            "movCr3NoflushCycles",
            MOV_CR3_NOFLUSH,
            "invlpgbCycles",
            60,
            "tlbsyncCycles",
            10,
            "invlpgbCompletionCycles",
            700));
    isaConfig.put(
        "interrupts",
        Map.of(
            "sendCycles",
            SEND,
            "deliveryCycles",
            DELIVERY,
            "handlerEntryCycles",
            HANDLER_ENTRY,
            "ackCycles",
            ACK));
    kernel =
        KernelBoot.on("x86")
            .name("x86-policy-test")
            .cores(cores)
            .frequencyGHz(1.0)
            .tlbLevels(
                List.of(
                    KernelBoot.level("l1i", TlbLevelSpec.Serves.INSTRUCTION, 16, 16, 0, 4096L),
                    KernelBoot.level("l1d", TlbLevelSpec.Serves.DATA, 64, 4, 0, 4096L, 2L << 20),
                    KernelBoot.level(
                        "stlb", TlbLevelSpec.Serves.UNIFIED, 512, 8, 9, 4096L, 2L << 20)))
            .walker(
                new WalkerSpec(
                    List.of(20, 20, 20, 20),
                    3,
                    List.of(
                        new WalkerSpec.WalkCacheSpec(0, 2),
                        new WalkerSpec.WalkCacheSpec(1, 4),
                        new WalkerSpec.WalkCacheSpec(2, 32))))
            .isaValues(isaConfig)
            .variants(variants)
            .boot();
    machine = kernel.machine();
    policy = (X86TlbPolicy) kernel.tlbPolicy();
  }

  RoundCostX86Kernel(int cores) {
    this(cores, Map.of(), Map.of());
  }

  /** A process with one writable mapping of {@code pages} pages at {@link #DATA_VA}. */
  Mm process(int pages) {
    machine.actOn(0);
    Mm mm = kernel.createMm();
    mm.addVma(new Vma(DATA_VA, DATA_VA + pages * 4096L, PteFlags.WRITE, "data"));
    return mm;
  }

  /** Runs {@code mm} on {@code core} and touches (stores to) pages {@code [0, pages)} there. */
  void runAndTouch(int core, Mm mm, int pages) {
    machine.actOn(core);
    kernel.switchTo(core, mm);
    for (int page = 0; page < pages; page++) {
      machine.access(core, DATA_VA + page * 4096L, 8, AccessKind.WRITE);
    }
  }

  /** Moves every core's clock to the latest one, so a test starts from one common time. */
  long alignClocks() {
    long latest = machine.clocks().max();
    for (int core = 0; core < machine.coreCount(); core++) {
      machine.clocks().waitUntil(core, latest);
    }
    return latest;
  }

  /** Whether {@code core}'s data TLBs hold a translation of {@code va} under its current PCID. */
  boolean cached(int core, long va) {
    int pcid = machine.core(core).context().asid();
    return machine.core(core).tlb("l1d").probe(va, pcid) >= 0
        || machine.core(core).tlb("stlb").probe(va, pcid) >= 0;
  }

  long count(String instruction) {
    return machine.stats().instructionCounts().getOrDefault(instruction, 0L);
  }
}
