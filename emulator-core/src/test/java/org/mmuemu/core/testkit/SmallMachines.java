package org.mmuemu.core.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.config.WalkerSpec;
import org.mmuemu.core.config.WalkerSpec.WalkCacheSpec;
import org.mmuemu.core.isa.Isa;
import org.mmuemu.core.isa.IsaProvider;
import org.mmuemu.core.machine.Machine;

/**
 * Hand-made machine specs for tests: 64 MiB of memory, a few tiny TLB levels and a walker with
 * distinct per-level costs, so that every cycle and memory reference a test expects can be worked
 * out by hand.
 *
 * <p>The standard machine ({@link MachineSpecBuilder}'s defaults) has, per core: {@code l1i}
 * (instruction, 16 entries, 4-way, 4 KiB, 1 cycle), {@code l1d} (data, 16 entries, 4-way, 4 KiB and
 * 2 MiB, 1 cycle) and {@code l2} (unified, 64 entries, 8-way, 4 KiB, 2 MiB and 1 GiB, 4 cycles);
 * descriptor reads cost {@code 11, 13, 17, 19} cycles at levels 0-3, a walk-cache hit 2 cycles, and
 * levels 0-2 have 8-entry walk caches. Access cost 1, quantum 0.
 */
public final class SmallMachines {
  public static final long MEMORY_BYTES = 64L << 20;
  public static final long KIB_4 = 4L << 10;
  public static final long MIB_2 = 2L << 20;
  public static final long GIB_1 = 1L << 30;
  public static final List<Integer> MEMORY_REF_CYCLES = List.of(11, 13, 17, 19);
  public static final int WALK_CACHE_HIT_CYCLES = 2;
  public static final int L1_HIT_CYCLES = 1;
  public static final int L2_HIT_CYCLES = 4;
  public static final int ACCESS_CYCLES = 1;

  private SmallMachines() {}

  /** One TLB level. */
  public static TlbLevelSpec level(
      String name,
      Serves serves,
      int entries,
      int ways,
      Replacement replacement,
      int hitCycles,
      Long... pageSizesBytes) {
    return new TlbLevelSpec(
        name, serves, entries, ways, List.of(pageSizesBytes), hitCycles, replacement);
  }

  /** The three TLB levels of the standard machine. */
  public static List<TlbLevelSpec> standardTlbs() {
    return List.of(
        level("l1i", Serves.INSTRUCTION, 16, 4, Replacement.LRU, L1_HIT_CYCLES, KIB_4),
        level("l1d", Serves.DATA, 16, 4, Replacement.LRU, L1_HIT_CYCLES, KIB_4, MIB_2),
        level("l2", Serves.UNIFIED, 64, 8, Replacement.LRU, L2_HIT_CYCLES, KIB_4, MIB_2, GIB_1));
  }

  /** A walker with the given per-level costs and an 8-entry walk cache at each listed level. */
  public static WalkerSpec walker(
      List<Integer> memoryRefCycles, int walkCacheHitCycles, int... cachedLevels) {
    List<WalkCacheSpec> caches = new ArrayList<>();
    for (int level : cachedLevels) {
      caches.add(new WalkCacheSpec(level, 8));
    }
    return new WalkerSpec(memoryRefCycles, walkCacheHitCycles, caches);
  }

  /** The standard walker: costs {@link #MEMORY_REF_CYCLES}, walk caches at levels 0, 1 and 2. */
  public static WalkerSpec standardWalker() {
    return walker(MEMORY_REF_CYCLES, WALK_CACHE_HIT_CYCLES, 0, 1, 2);
  }

  /** An ISA section at {@code /<isa>} holding {@code values}. */
  public static ConfigSection isaSection(String isa, Map<String, Object> values) {
    return MachineSpecBuilder.forIsa(isa).isaValues(values).build().isaSection();
  }

  /**
   * Validates {@code section} with {@code provider}, creates the ISA and builds the machine.
   *
   * @throws AssertionError when the provider rejects the section
   */
  public static Machine build(IsaProvider provider, MachineSpec spec, long seed) {
    var problems = provider.validate(spec.isaSection());
    if (!problems.isEmpty()) {
      throw new AssertionError("ISA section rejected: " + problems);
    }
    Isa isa = provider.create(spec.isaSection());
    return new Machine(spec, isa, seed);
  }

  /** A machine with the fake ISA. */
  public static Machine fake(MachineSpec spec) {
    return new Machine(spec, new FakeIsa(), 1);
  }

  /** The standard machine with the fake ISA. */
  public static Machine standardFake() {
    return fake(MachineSpecBuilder.forIsa(FakeIsa.ID).build());
  }
}
