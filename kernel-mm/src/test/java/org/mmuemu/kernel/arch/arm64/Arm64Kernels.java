package org.mmuemu.kernel.arch.arm64;

import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.testkit.KernelBoot;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;

/**
 * arm64 kernels for the policy tests: a small machine (64 MiB; {@code l1i}, {@code l1d} and a
 * unified {@code l2} that hold 4 KiB and 64 KiB pages; walk caches at levels 0-2) with the
 * given ISA keys, booted with the given kernel variants.
 */
final class Arm64Kernels {
  static final long USER_VA = 0x10_0000_0000L;

  private Arm64Kernels() {}

  static Kernel boot(int cores, Map<String, Object> isaKeys, Map<String, Object> variants) {
    return KernelBoot.on("arm64").name("test-arm64").cores(cores)
        .tlbLevels(List.of(KernelBoot.level("l1i", TlbLevelSpec.Serves.INSTRUCTION, 16, 16, 0, 4096L),
            KernelBoot.level("l1d", TlbLevelSpec.Serves.DATA, 32, 32, 0, 4096L, 65536L),
            KernelBoot.level("l2", TlbLevelSpec.Serves.UNIFIED, 1024, 4, 5, 4096L, 65536L, 2L << 20)))
        .isaValues(isaKeys).variants(variants).boot();
  }

  static Kernel boot(int cores) {
    return boot(cores, Map.of(), Map.of());
  }

  static Arm64TlbPolicy policy(Kernel kernel) {
    return (Arm64TlbPolicy) kernel.tlbPolicy();
  }

  /** A process with one writable anonymous VMA of {@code pages} pages at {@link #USER_VA}. */
  static Mm process(Kernel kernel, long pages) {
    Mm mm = kernel.createMm();
    kernel.mmap(0, mm, new Vma(USER_VA, USER_VA + (pages << 12), org.mmuemu.core.isa.PteFlags.WRITE, "anon"));
    return mm;
  }
}
