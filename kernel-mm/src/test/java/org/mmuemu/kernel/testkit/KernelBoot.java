package org.mmuemu.kernel.testkit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.testkit.MachineSpecBuilder;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.config.KernelConfig;

/**
 * Boots a kernel for a test, by named settings: the one kernel test helper (kernel-mm's test jar).
 * The machine is built with core's {@link MachineSpecBuilder}; every setting starts at the kernel
 * test machine's value, so a test names only what it depends on:
 *
 * <ul>
 *   <li>2 cores at 2 GHz, 64 MiB, access cost 4, quantum 0;
 *   <li>{@code l1i} (instruction, 16 entries, fully associative, 4 KiB), {@code l1d} (data, 16
 *       entries, 4 KiB and 2 MiB) and {@code l2} (unified, 256 entries, 4-way, 4 KiB and 2 MiB, 5
 *       cycles), all LRU;
 *   <li>descriptor reads of 20 cycles at every level, a walk-cache hit 2 cycles, walk caches of 2,
 *       4 and 16 entries at levels 0-2;
 *   <li>every kernel cost, variant and tunable at its default, and seed 1.
 * </ul>
 */
public final class KernelBoot {
  private static final IsaRegistry ISAS = IsaRegistry.load();

  private final String isa;
  private final MachineSpecBuilder spec;
  private final Map<String, Object> isaValues = new LinkedHashMap<>();
  private final Map<String, Object> variants = new TreeMap<>();
  private final Map<String, Object> costs = new TreeMap<>();
  private final Map<String, Object> tunables = new TreeMap<>();
  private boolean kernelThreads;
  private long seed = 1;

  private KernelBoot(String isa) {
    this.isa = isa;
    this.spec =
        MachineSpecBuilder.forIsa(isa)
            .name("test-" + isa)
            .description("kernel test machine")
            .cores(2)
            .frequencyGHz(2.0)
            .memoryBytes(64L << 20)
            .accessCycles(4)
            .tlbLevels(defaultTlbs())
            .walker(defaultWalker());
  }

  /** A kernel test machine of ISA {@code isa} ({@code arm64}, {@code x86}). */
  public static KernelBoot on(String isa) {
    return new KernelBoot(isa);
  }

  /** A TLB level holding the given page sizes. */
  public static TlbLevelSpec level(
      String name,
      TlbLevelSpec.Serves serves,
      int entries,
      int ways,
      int hitCycles,
      Long... pageSizesBytes) {
    return new TlbLevelSpec(
        name,
        serves,
        entries,
        ways,
        List.of(pageSizesBytes),
        hitCycles,
        TlbLevelSpec.Replacement.LRU);
  }

  private static List<TlbLevelSpec> defaultTlbs() {
    return List.of(
        level("l1i", TlbLevelSpec.Serves.INSTRUCTION, 16, 16, 0, 4096L),
        level("l1d", TlbLevelSpec.Serves.DATA, 16, 16, 0, 4096L, 2L << 20),
        level("l2", TlbLevelSpec.Serves.UNIFIED, 256, 4, 5, 4096L, 2L << 20));
  }

  private static WalkerSpec defaultWalker() {
    return new WalkerSpec(
        List.of(20, 20, 20, 20),
        2,
        List.of(
            new WalkerSpec.WalkCacheSpec(0, 2),
            new WalkerSpec.WalkCacheSpec(1, 4),
            new WalkerSpec.WalkCacheSpec(2, 16)));
  }

  public KernelBoot cores(int value) {
    spec.cores(value);
    return this;
  }

  public KernelBoot frequencyGHz(double value) {
    spec.frequencyGHz(value);
    return this;
  }

  public KernelBoot memoryBytes(long value) {
    spec.memoryBytes(value);
    return this;
  }

  public KernelBoot tlbLevels(List<TlbLevelSpec> value) {
    spec.tlbLevels(value);
    return this;
  }

  /**
   * arm64 TLBs that also hold 64 KiB (contpte) pages: {@code l1i} as usual, {@code l1d} 32 entries
   * (4 KiB, 64 KiB), a 1024-entry 4-way {@code l2} (4 KiB, 64 KiB, 2 MiB); for the arm64 flush,
   * contpte and ASID tests.
   */
  public KernelBoot contpteTlbs() {
    return tlbLevels(
        List.of(
            level("l1i", TlbLevelSpec.Serves.INSTRUCTION, 16, 16, 0, 4096L),
            level("l1d", TlbLevelSpec.Serves.DATA, 32, 32, 0, 4096L, 65536L),
            level("l2", TlbLevelSpec.Serves.UNIFIED, 1024, 4, 5, 4096L, 65536L, 2L << 20)));
  }

  public KernelBoot walker(WalkerSpec value) {
    spec.walker(value);
    return this;
  }

  public KernelBoot name(String value) {
    spec.name(value);
    return this;
  }

  /** Keys of the ISA section ({@code /<isa>}), for example x86 {@code invlpgb} or costs. */
  public KernelBoot isaValues(Map<String, Object> values) {
    isaValues.putAll(values);
    return this;
  }

  /** Selects kernel variants ({@code /kernel/variants}). */
  public KernelBoot variants(Map<String, ?> values) {
    variants.putAll(values);
    return this;
  }

  /** Sets one kernel cost ({@code /kernel/costs}). */
  public KernelBoot cost(String name, long value) {
    costs.put(name, value);
    return this;
  }

  /** Sets one kernel tunable ({@code /kernel/tunables}). */
  public KernelBoot tunable(String name, Object value) {
    tunables.put(name, value);
    return this;
  }

  /** After boot, every core runs a kernel thread and core 0 acts (vmalloc tests). */
  public KernelBoot kernelThreads() {
    this.kernelThreads = true;
    return this;
  }

  public KernelBoot seed(long value) {
    this.seed = value;
    return this;
  }

  /** The machine spec, its {@code /kernel} section holding the chosen variants and costs. */
  public MachineSpec spec() {
    Map<String, Object> kernel = new TreeMap<>();
    if (!variants.isEmpty()) {
      kernel.put("variants", new TreeMap<>(variants));
    }
    if (!costs.isEmpty()) {
      kernel.put("costs", new TreeMap<>(costs));
    }
    if (!tunables.isEmpty()) {
      kernel.put("tunables", new TreeMap<>(tunables));
    }
    return spec.isaValues(new LinkedHashMap<>(isaValues)).kernelValues(kernel).build();
  }

  /** The ISA {@code spec} names, created from its ISA section (which must be valid). */
  public static Isa isa(MachineSpec spec) {
    IsaProvider provider = ISAS.get(spec.isa());
    ConfigSection section =
        new ConfigSection(spec.isaSection().pointer(), spec.isaSection().asMap());
    if (!provider.validate(section).isEmpty()) {
      throw new AssertionError(section.problems());
    }
    return provider.create(
        new ConfigSection(spec.isaSection().pointer(), spec.isaSection().asMap()));
  }

  /** The machine, not booted. */
  public Machine machine() {
    MachineSpec built = spec();
    return new Machine(built, isa(built), seed);
  }

  /** The kernel config of {@link #spec()}'s {@code /kernel} section. */
  public static KernelConfig config(MachineSpec spec) {
    ConfigSection kernel = spec.kernelSection();
    return KernelConfig.read(new ConfigSection(kernel.pointer(), kernel.asMap()));
  }

  /** Builds the machine and boots the kernel on it. */
  public Kernel boot() {
    MachineSpec built = spec();
    Machine machine = new Machine(built, isa(built), seed);
    Kernel kernel = new Kernel(machine, config(built));
    if (kernelThreads) {
      for (int core = 0; core < machine.coreCount(); core++) {
        kernel.switchToKernelThread(core);
      }
      machine.actOn(0);
    }
    return kernel;
  }
}
