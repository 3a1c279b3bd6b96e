package org.mmuemu.kernel.workload;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.mmuemu.core.isa.PteFlags;
import org.mmuemu.core.machine.AccessKind;
import org.mmuemu.core.machine.Machine;
import org.mmuemu.core.time.CoreProgram;
import org.mmuemu.kernel.Kernel;
import org.mmuemu.kernel.mm.Mm;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.MappedFile;

/**
 * fork and copy-on-write (DOMAIN-FAULTS.md §5.4, W-COW1 to W-COW4): a parent with several threads
 * forks children that write its memory, and pins pages read-only for the long term the way a driver
 * registers a buffer.
 *
 * <ul>
 *   <li>The parent's threads run on cores {@code 0} to {@code threads - 1}; thread 0 first writes
 *       every page of the anonymous heap and reads every page of a privately mapped file, then
 *       forks {@code forks} children one after another, storing {@code parentWrites} times to
 *       random heap pages after each fork (COW copies while the child still maps the page, reuse
 *       after it copied or exited). The other threads keep storing to their own part of the heap
 *       until the last fork, so forks happen while they hold writable TLB entries (fork's flush)
 *       and their COW copies flush the parent's other CPUs.
 *   <li>Each child runs on the next free core of the rest, stores to {@code childWrites} random
 *       heap pages (each a COW copy, unless the page was already copied) and exits.
 *   <li>After the last fork, thread 0 pins {@code pinPages} heap pages and {@code pinPages} file
 *       pages read-only ({@code pin_user_pages(FOLL_LONGTERM)}, unsharing where the variant {@code
 *       unshareScope} says), stores to each pinned page, and unpins them; a pin whose page the
 *       process no longer maps by then counts in {@code gupPinsStale}.
 *   <li>When every thread and child is done, the parent exits.
 * </ul>
 *
 * <p>{@code // MODEL:} a child is an address-space copy running on its own core (no exec, no
 * scheduler). Each step is one action: a store, a read, a fork, a pin or unpin, an exit, or a poll
 * while waiting ({@link MmWorkloads#POLL_CYCLES}).
 */
public final class ForkCowWorkload implements Workload {
  private static final long FILE_BASE_VA = MmWorkloads.DATA_BASE_VA + (1L << 32);

  @Override
  public String name() {
    return "fork-cow";
  }

  @Override
  public String description() {
    return "a multi-threaded parent forks children that write its memory (copy-on-write), then"
        + " pins pages read-only (unshare)";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer(
            "threads",
            null,
            1,
            4095,
            "parent threads from core 0; children run on the remaining cores (default: half the"
                + " cores)"),
        WorkloadParam.size(
            "heapBytes", "256KiB", 4096, 1L << 30, "the parent's anonymous heap, written first"),
        WorkloadParam.size(
            "fileBytes", "64KiB", 4096, 1L << 30, "a privately mapped file the parent reads"),
        WorkloadParam.integer("forks", "8", 1, 1_000_000, "children thread 0 forks"),
        WorkloadParam.integer(
            "childWrites", "16", 0, 100_000_000, "stores each child makes to random heap pages"),
        WorkloadParam.integer(
            "parentWrites",
            "32",
            0,
            100_000_000,
            "stores thread 0 makes to random heap pages after each fork (the other parent threads"
                + " store to their part of the heap until the last fork)"),
        WorkloadParam.choice(
            "heapAdvice",
            "none",
            List.of("none", "hugepage"),
            "hugepage: madvise(MADV_HUGEPAGE) on the heap, so thp=madvise backs it with 2 MiB pages"),
        WorkloadParam.integer(
            "pinPages",
            "8",
            0,
            1_000_000,
            "heap pages and file pages pinned read-only after the last fork (each)"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    if (machine.coreCount() < 2) {
      throw new WorkloadException(
          "--machine: " + machine.coreCount() + " core (expected: at least 2, for a child)");
    }
    int threads = MmWorkloads.threads(params, machine, Math.max(1, machine.coreCount() / 2), 1);
    if (threads == machine.coreCount()) {
      throw new WorkloadException(
          "--param threads="
              + threads
              + ": (expected: 1 to "
              + (machine.coreCount() - 1)
              + ", leaving a core for the children)");
    }
    long heapPages = MmWorkloads.pageAligned(params.bytes("heapBytes")) >>> 12;
    long filePages = MmWorkloads.pageAligned(params.bytes("fileBytes")) >>> 12;
    long pinPages = params.integer("pinPages");
    if (pinPages > Math.min(heapPages, filePages)) {
      throw new WorkloadException(
          "--param pinPages="
              + pinPages
              + ": (expected: at most "
              + Math.min(heapPages, filePages)
              + ", the pages of the smaller of heapBytes and fileBytes)");
    }
    if (heapPages < threads) {
      throw new WorkloadException(
          "--param heapBytes=" + (heapPages << 12) + ": (expected: at least a page per thread)");
    }
    Run run =
        new Run(
            kernel,
            threads,
            heapPages,
            filePages,
            params.integer("forks"),
            params.integer("childWrites"),
            params.integer("parentWrites"),
            pinPages,
            params.choice("heapAdvice").equals("hugepage"),
            seed);
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    effective.put("heapBytes", Long.toString(heapPages << 12));
    effective.put("fileBytes", Long.toString(filePages << 12));
    return PreparedWorkload.of(run.programs(), effective, Map::of);
  }

  /** One run's shared state: the parent, the queue of children waiting for a core. */
  private static final class Run {
    private final Kernel kernel;
    private final Machine machine;
    private final int threads;
    private final long heapPages;
    private final long filePages;
    private final long forks;
    private final long childWrites;
    private final long parentWrites;
    private final long pinPages;
    private final long seed;
    private final Mm parent;
    private final ArrayDeque<Mm> waitingChildren = new ArrayDeque<>();
    private boolean forkingDone;
    private int threadsDone;
    private int childCoresDone;

    Run(
        Kernel kernel,
        int threads,
        long heapPages,
        long filePages,
        long forks,
        long childWrites,
        long parentWrites,
        long pinPages,
        boolean heapAdvised,
        long seed) {
      this.kernel = kernel;
      this.machine = kernel.machine();
      this.threads = threads;
      this.heapPages = heapPages;
      this.filePages = filePages;
      this.forks = forks;
      this.childWrites = childWrites;
      this.parentWrites = parentWrites;
      this.pinPages = pinPages;
      this.seed = seed;
      MappedFile file = kernel.pageCache().createFile("data.so", filePages << 12);
      this.parent = kernel.createMm();
      long heapEnd = MmWorkloads.DATA_BASE_VA + (heapPages << 12);
      Vma heap = new Vma(MmWorkloads.DATA_BASE_VA, heapEnd, PteFlags.WRITE, "heap");
      kernel.mmap(0, parent, heapAdvised ? heap.withHugepageAdvice() : heap);
      kernel.mmap(
          0,
          parent,
          Vma.privateFile(
              FILE_BASE_VA, FILE_BASE_VA + (filePages << 12), PteFlags.WRITE, "data.so", file, 0));
    }

    CoreProgram[] programs() {
      CoreProgram[] programs = new CoreProgram[machine.coreCount()];
      programs[0] = new Forker();
      for (int thread = 1; thread < threads; thread++) {
        programs[thread] = new ParentThread(thread);
      }
      for (int core = threads; core < programs.length; core++) {
        programs[core] = new ChildCore(core);
      }
      return programs;
    }

    private long heapVa(long page) {
      return MmWorkloads.DATA_BASE_VA + (page << 12);
    }

    private void poll(int core) {
      machine.charge(core, MmWorkloads.POLL_CYCLES);
    }

    /** Thread 0 of the parent: populates, forks, pins, and exits the parent at the end. */
    private final class Forker implements CoreProgram {
      private final SplittableRandom random = new SplittableRandom(seed * 31);
      private final List<Kernel.Pin> pins = new ArrayList<>();
      private long step;
      private long forked;
      private long writesLeft;
      private long pinStep;

      @Override
      public boolean step(int core) {
        if (step == 0) {
          kernel.switchTo(core, parent);
        }
        if (step < heapPages) {
          machine.access(core, heapVa(step++), 8, AccessKind.WRITE);
          return true;
        }
        if (step < heapPages + filePages) {
          machine.access(core, FILE_BASE_VA + ((step++ - heapPages) << 12), 8, AccessKind.READ);
          return true;
        }
        if (writesLeft > 0) {
          writesLeft--;
          machine.access(core, heapVa(random.nextLong(heapPages)), 8, AccessKind.WRITE);
          return true;
        }
        if (forked < forks) {
          waitingChildren.add(kernel.fork(core, parent));
          forked++;
          writesLeft = parentWrites;
          return true;
        }
        forkingDone = true;
        if (pinStep < 3 * pinPages) {
          pinStage(core);
          return true;
        }
        if (threadsDone < threads - 1 || childCoresDone < machine.coreCount() - threads) {
          poll(core);
          return true;
        }
        kernel.exitMmap(core, parent);
        return false;
      }

      // pins the heap and file pages, stores to each, then unpins them, one action per step
      private void pinStage(int core) {
        long index = pinStep % pinPages;
        if (pinStep < pinPages) {
          pins.add(kernel.pinUserPageReadOnly(core, parent, heapVa(index)));
          pins.add(kernel.pinUserPageReadOnly(core, parent, FILE_BASE_VA + (index << 12)));
        } else if (pinStep < 2 * pinPages) {
          machine.access(core, heapVa(index), 8, AccessKind.WRITE);
          machine.access(core, FILE_BASE_VA + (index << 12), 8, AccessKind.WRITE);
        } else {
          kernel.unpinUserPage(core, pins.get((int) (2 * index)));
          kernel.unpinUserPage(core, pins.get((int) (2 * index + 1)));
        }
        pinStep++;
      }
    }

    /**
     * Another parent thread: stores to random pages of its own part of the heap until thread 0 has
     * forked the last child, so every fork finds it running with writable TLB entries.
     */
    private final class ParentThread implements CoreProgram {
      private final SplittableRandom random;
      private final long firstPage;
      private final long pages;
      private boolean started;

      ParentThread(int thread) {
        this.random = new SplittableRandom(seed * 31 + thread);
        this.pages = heapPages / threads;
        this.firstPage = thread * pages;
      }

      @Override
      public boolean step(int core) {
        if (!started) {
          kernel.switchTo(core, parent);
          started = true;
        }
        if (forkingDone) {
          threadsDone++;
          return false;
        }
        machine.access(core, heapVa(firstPage + random.nextLong(pages)), 8, AccessKind.WRITE);
        return true;
      }
    }

    /** A core children run on, one after another: each stores to random heap pages and exits. */
    private final class ChildCore implements CoreProgram {
      private final SplittableRandom random;
      private Mm child;
      private long writesLeft;
      private long pagesRead;

      ChildCore(int core) {
        this.random = new SplittableRandom(seed * 31 + core);
      }

      @Override
      public boolean step(int core) {
        if (child == null) {
          if (waitingChildren.isEmpty()) {
            if (forkingDone) {
              childCoresDone++;
              return false;
            }
            poll(core);
            return true;
          }
          child = waitingChildren.poll();
          kernel.switchTo(core, child);
          writesLeft = childWrites;
          pagesRead = 0;
          return true;
        }
        if (writesLeft > 0) {
          writesLeft--;
          machine.access(core, heapVa(random.nextLong(heapPages)), 8, AccessKind.WRITE);
          return true;
        }
        if (pagesRead < filePages) {
          machine.access(core, FILE_BASE_VA + (pagesRead++ << 12), 8, AccessKind.READ);
          return true;
        }
        kernel.exitMmap(core, child);
        child = null;
        return true;
      }
    }
  }
}
