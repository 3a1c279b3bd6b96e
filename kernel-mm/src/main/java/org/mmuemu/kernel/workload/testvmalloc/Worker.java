package org.mmuemu.kernel.workload.testvmalloc;

import static org.mmuemu.kernel.workload.testvmalloc.TestVmallocWorkload.PAGE;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.mem.SimulatedOutOfMemoryException;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.vmalloc.Vmalloc;

/** One kthread {@code vmalloc_test/<i>}: its tests in its order, one kernel call per step. */
final class Worker implements CoreProgram {
  final int index;
  final Kernel kernel;
  final Vmalloc vmalloc;
  final Machine machine;
  final Settings settings;
  final SplittableRandom random;
  final List<TestStats> stats = new ArrayList<>();
  final int[] order;
  int position;
  int repeat;
  TestRun current;
  long repeatStartCycle;
  final FreedAreas freed;
  long walkedSeq;
  long startCycle = -1;
  long totalCycles;
  String error;
  boolean done;

  Worker(
      int index,
      Kernel kernel,
      Vmalloc vmalloc,
      Settings settings,
      SplittableRandom random,
      FreedAreas freed) {
    this.index = index;
    this.freed = freed;
    this.kernel = kernel;
    this.vmalloc = vmalloc;
    this.machine = kernel.machine();
    this.settings = settings;
    this.random = random;
    List<TestVmallocCase> selected = new ArrayList<>();
    for (TestVmallocCase c : TestVmallocCase.values()) {
      if ((settings.mask() & c.mask()) != 0) {
        selected.add(c);
        stats.add(new TestStats(c, settings.loops()));
      }
    }
    order = new int[selected.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    if (!settings.sequential()) {
      for (int i = order.length - 1; i > 0; i--) { // shuffle_array
        int j = random.nextInt(i + 1);
        int swap = order[i];
        order[i] = order[j];
        order[j] = swap;
      }
    }
  }

  @Override
  public boolean step(int core) {
    if (startCycle < 0) {
      kernel.switchToKernelThread(core);
      startCycle = machine.now(core);
    }
    if (position < order.length) {
      TestStats test = stats.get(order[position]);
      if (current == null) {
        current = newRun(test.testCase, core);
        repeatStartCycle = machine.now(core);
      }
      boolean more;
      try {
        more = current.step(core);
      } catch (SimulatedOutOfMemoryException e) {
        error = test.testCase.testName + ": simulated memory exhausted (" + e.getMessage() + ")";
        current.failed = true;
        more = false;
        position = order.length - 1;
        repeat = settings.repeats() - 1;
      }
      if (!more) {
        test.repeats++;
        test.cycles += machine.now(core) - repeatStartCycle;
        if (!current.failed) {
          test.passed++;
        } else if (test.testCase.xfail) {
          test.xfailed++;
        } else {
          test.failed++;
        }
        current = null;
        if (++repeat == settings.repeats()) {
          repeat = 0;
          position++;
        }
      }
      if (position < order.length) {
        return true;
      }
    }
    vmalloc.runRcuCallbacks(core, true); // rcu_barrier before the module goes away
    totalCycles = machine.now(core) - startCycle;
    done = true;
    return false;
  }

  private TestRun newRun(TestVmallocCase testCase, int core) {
    return switch (testCase) {
      case FIX_SIZE_ALLOC ->
          new LoopRun(settings.loops()) {
            @Override
            boolean iteration(int c) {
              speculateOnFreed(c);
              long bytes = settings.nrPages() * PAGE;
              long va =
                  settings.useHuge() ? vmalloc.vmallocHuge(c, bytes) : vmalloc.vmalloc(c, bytes);
              return touchAndFree(c, va);
            }
          };
      case FULL_FIT_ALLOC -> new FullFitRun(this);
      case LONG_BUSY_LIST_ALLOC -> new LongBusyListRun(this);
      case RANDOM_SIZE_ALLOC ->
          new LoopRun(settings.loops()) {
            @Override
            boolean iteration(int c) {
              speculateOnFreed(c);
              return touchAndFree(c, vmalloc.vmalloc(c, (1 + random.nextInt(100)) * PAGE));
            }
          };
      case FIX_ALIGN_ALLOC ->
          new LoopRun(settings.loops()) {
            @Override
            boolean iteration(int c) {
              long threadAlign = kernel.arch().layout().threadAlignBytes();
              long va = vmalloc.vmallocNode(c, 5 * PAGE, threadAlign << 1, true);
              vmalloc.vfree(c, va);
              return va != 0;
            }
          };
      case RANDOM_SIZE_ALIGN_ALLOC ->
          new LoopRun(settings.loops()) {
            @Override
            boolean iteration(int c) {
              int rnd = random.nextInt(256);
              long va = vmalloc.vmallocNode(c, ((rnd % 10) + 1) * PAGE, 1L << (rnd % 23), true);
              vmalloc.vfree(c, va);
              return va != 0;
            }
          };
      case ALIGN_SHIFT_ALLOC ->
          new LoopRun(Long.SIZE) {
            int shift;

            @Override
            boolean iteration(int c) {
              long va = vmalloc.vmallocNode(c, PAGE, 1L << shift++, true);
              vmalloc.vfree(c, va);
              return va != 0;
            }
          };
      case PCPU_ALLOC -> new PcpuRun(this);
      case KVFREE_RCU_1_ARG, KVFREE_RCU_2_ARG ->
          new LoopRun(settings.loops()) {
            @Override
            boolean iteration(int c) {
              long va = vmalloc.vmalloc(c, PAGE);
              if (va == 0) {
                return false;
              }
              machine.access(c, va, 1, AccessKind.WRITE);
              vmalloc.kvfreeRcu(c, va);
              return true;
            }
          };
      case VM_MAP_RAM -> new VmMapRamRun(this);
    };
  }

  boolean touchAndFree(int core, long va) {
    if (va == 0) {
      return false;
    }
    machine.access(core, va, 1, AccessKind.WRITE);
    vmalloc.vfree(core, va);
    // a purge that had already detached the lazy list when this area joined it does not flush it
    freed.add(va, vmalloc.purgesStarted());
    return true;
  }

  // Stale pointers to areas the workers freed: once a purge has flushed an area and made its
  // range free again, each CPU may walk it speculatively (once), and its walk caches learn the
  // tables left there. Before the purge a TLB may still hold the lazily freed entry, which a
  // speculative walk would not get past, so those wait.
  void speculateOnFreed(int core) {
    if (settings.speculativeWalk() > 0) {
      long from = settings.speculativeWalk() == 2 ? 0 : walkedSeq;
      walkedSeq =
          freed.walkFlushed(from, vmalloc.purgeCount(), va -> kernel.speculativeWalk(core, va));
    }
  }
}
