package org.mmuemu.benchmarks;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.mmuemu.core.config.MachineSpec;
import org.mmuemu.core.config.TlbLevelSpec;
import org.mmuemu.core.config.TlbLevelSpec.Replacement;
import org.mmuemu.core.config.TlbLevelSpec.Serves;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.tlb.SetAssociativeTlb;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.config.KernelConfig;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The TLB hit path, the innermost loop of every simulation: {@link SetAssociativeTlb#lookup} on a
 * full, warmed level, and {@link Machine#translate} of addresses that hit in L1.
 *
 * <p>Every lookup hits: the level is filled with exactly {@code ways} pages per set, and the
 * benchmark cycles through those pages in a scrambled order, so the probe scans a whole set as
 * often as it stops early. Run with {@code -prof gc}: the hit path must allocate nothing ({@code
 * gc.alloc.rate.norm} about 0 B/op).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TlbLookupBenchmark {
  private static final int ASID = 7;
  private static final long BASE_VA = 0x7f00_0000_0000L;

  /** One TLB level, full, and the addresses of its entries. */
  @State(Scope.Thread)
  public static class TlbState {
    /** {@code entries x ways}: 1280x5 is Neoverse N1's L2, 48x48 its fully associative L1. */
    @Param({"1280x5", "48x48"})
    public String geometry;

    SetAssociativeTlb tlb;
    long[] vas;
    int mask;
    int next;

    @Setup(Level.Trial)
    public void fill() {
      String[] parts = geometry.split("x");
      int entries = Integer.parseInt(parts[0]);
      int ways = Integer.parseInt(parts[1]);
      tlb =
          new SetAssociativeTlb(
              new TlbLevelSpec(
                  "bench", Serves.UNIFIED, entries, ways, List.of(4096L), 1, Replacement.LRU),
              1);
      // Consecutive pages spread evenly over the sets: each set ends up holding exactly `ways`.
      long firstVpn = BASE_VA >>> 12;
      for (int i = 0; i < entries; i++) {
        tlb.fill(
            (firstVpn + i) << 12, 12, ASID, false, 0x1000 + i, PteFlags.WRITE | PteFlags.USER, 0);
      }
      vas = scrambledPages(BASE_VA, entries, Integer.highestOneBit(entries * 4 - 1));
      mask = vas.length - 1;
      for (long va : vas) {
        if (tlb.lookup(va, ASID) < 0) {
          throw new IllegalStateException("setup: va 0x" + Long.toHexString(va) + " misses");
        }
      }
    }
  }

  /**
   * A booted arm64 machine with N1 TLBs whose L1 data TLB holds every page the benchmark touches.
   */
  @State(Scope.Thread)
  public static class MachineState {
    /** Pages touched: fewer than the 48 entries of the L1 data TLB. */
    static final int PAGES = 32;

    Machine machine;
    long[] vas;
    int mask;
    int next;

    @Setup(Level.Trial)
    public void boot() {
      MachineSpec spec = BenchmarkMachines.machine("arm64", 1);
      machine = new Machine(spec, BenchmarkMachines.isa(spec), 1);
      Kernel kernel =
          new Kernel(machine, KernelConfig.read(BenchmarkMachines.emptyKernelSection()));
      Mm mm = kernel.createMm();
      mm.addVma(new Vma(BASE_VA, BASE_VA + (PAGES << 12), PteFlags.WRITE, "bench"));
      kernel.switchTo(0, mm);
      vas = scrambledPages(BASE_VA, PAGES, 256);
      mask = vas.length - 1;
      for (long va : vas) {
        if (machine.translate(0, va, AccessKind.WRITE)
            < 0) { // demand-fault every page in, writable and dirty
          throw new IllegalStateException(
              "setup: va 0x" + Long.toHexString(va) + " did not translate");
        }
      }
      long l1Misses = machine.core(0).tlb("l1d").misses();
      for (long va : vas) {
        machine.translate(0, va, AccessKind.READ);
      }
      if (machine.core(0).tlb("l1d").misses() != l1Misses) {
        throw new IllegalStateException("setup: the L1 data TLB does not hold the working set");
      }
    }
  }

  /**
   * {@code count} addresses, a power of two of them, cycling over {@code pages} consecutive pages
   * in a scrambled order, each at a different offset in its page.
   */
  static long[] scrambledPages(long baseVa, int pages, int count) {
    long[] vas = new long[count];
    for (int i = 0; i < count; i++) {
      int page = (int) (((long) i * 7919) % pages);
      vas[i] = baseVa + ((long) page << 12) + ((i * 64L) & 0xfff);
    }
    return vas;
  }

  @Benchmark
  public void tlbLookupHit(TlbState s, Blackhole bh) {
    bh.consume(s.tlb.lookup(s.vas[s.next++ & s.mask], ASID));
  }

  @Benchmark
  public void machineTranslateL1Hit(MachineState s, Blackhole bh) {
    bh.consume(s.machine.translate(0, s.vas[s.next++ & s.mask], AccessKind.READ));
  }
}
