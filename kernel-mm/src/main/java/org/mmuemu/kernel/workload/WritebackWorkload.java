package org.mmuemu.kernel.workload;

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
import org.mmuemu.kernel.mm.ReadAdvice;
import org.mmuemu.kernel.mm.Vma;
import org.mmuemu.kernel.pagecache.MappedFile;
import org.mmuemu.kernel.writeback.Writeback;

/**
 * A shared file mapping written by the threads of one process while a flusher thread on the last
 * core writes dirty pages back and reclaims clean ones. Writers store to random pages (seeded), and
 * now and then drop a chunk of the mapping with {@code madvise(MADV_DONTNEED)} (zapping dirty file
 * pages through mmu_gather, the delayed-rmap path). Writeback's folio_mkclean write-protects and
 * flushes every mapping of each page it cleans, so later stores fault and re-dirty; the {@code
 * LOST_WRITE} oracle checks every page reclaim drops. With {@code reclaimMapped=1} reclaim reads
 * the accessed flags of mapped pages and keeps those stored to since its last pass; {@code advice}
 * puts an madvise access hint on the mapping, which makes reclaim ignore those references ({@code
 * vma_has_recency}), and {@code hotPages} concentrates the stores on part of the file so that
 * references tell hot pages from cold ones.
 *
 * <p>{@code // MODEL:} the flusher's sleep between passes is charged as cycles on its core. Each
 * step is one action: a store, a madvise, one page written back, or a reclaim pass.
 */
public final class WritebackWorkload implements Workload {
  private static final long CHUNK_PAGES = 16;
  private static final long STORE_BYTES = 8;

  @Override
  public String name() {
    return "writeback";
  }

  @Override
  public String description() {
    return "threads write a shared file mapping while a flusher on the last core writes back and reclaims pages";
  }

  @Override
  public List<WorkloadParam> params() {
    return List.of(
        WorkloadParam.integer(
            "threads",
            null,
            2,
            4096,
            "cores in use: the last is the flusher, the others write (default: every core)"),
        WorkloadParam.integer("filePages", "256", CHUNK_PAGES, 1 << 20, "pages of the mapped file"),
        WorkloadParam.integer("writes", "2000", 1, 100_000_000, "stores per writer thread"),
        WorkloadParam.choice(
            "pattern",
            "random",
            List.of("random", "sequential"),
            "random: each store to a random page; sequential: each writer stores 8 bytes after the"
                + " last, from its own share of the file on, wrapping (a log writer)"),
        WorkloadParam.integer(
            "dontneedEvery",
            "200",
            0,
            100_000_000,
            "a writer drops a 16-page chunk every this many stores (0: never)"),
        WorkloadParam.integer(
            "reclaimMapped",
            "0",
            0,
            1,
            "1: reclaim also unmaps clean mapped pages (try_to_unmap; arm64 batches the flushes)"),
        WorkloadParam.choice(
            "advice",
            "normal",
            List.of("normal", "sequential", "random"),
            "madvise hint on the file mapping: MADV_NORMAL, MADV_SEQUENTIAL (VM_SEQ_READ) or"
                + " MADV_RANDOM (VM_RAND_READ); reclaim's reference check ignores hinted mappings"
                + " (vma_has_recency)"),
        WorkloadParam.integer(
            "hotPages",
            "0",
            0,
            1 << 20,
            "with random stores, hotPercent of them go to the file's first this many pages (0: all"
                + " pages alike)"),
        WorkloadParam.integer(
            "hotPercent", "90", 0, 100, "percent of random stores that go to the hot pages"),
        WorkloadParam.integer(
            "flushIntervalCycles",
            "200000",
            1000,
            1_000_000_000,
            "cycles the flusher sleeps between passes"));
  }

  @Override
  public PreparedWorkload prepare(Kernel kernel, WorkloadArgs params, long seed)
      throws WorkloadException {
    Machine machine = kernel.machine();
    int threads = MmWorkloads.threads(params, machine, machine.coreCount(), 2);
    long filePages = params.integer("filePages");
    long writes = params.integer("writes");
    long dontneedEvery = params.integer("dontneedEvery");
    long intervalCycles = params.integer("flushIntervalCycles");
    boolean sequential = params.choice("pattern").equals("sequential");
    boolean reclaimMapped = params.integer("reclaimMapped") == 1;
    ReadAdvice advice = ReadAdvice.named(params.choice("advice"));
    long hotPages = params.integer("hotPages");
    long hotPercent = params.integer("hotPercent");
    if (hotPages > filePages) {
      throw new WorkloadException(
          "--param hotPages=" + hotPages + " (expected: at most filePages, " + filePages + ")");
    }
    MappedFile file = kernel.pageCache().createFile("data", filePages << 12);
    Mm mm = kernel.createMm();
    long base = MmWorkloads.DATA_BASE_VA;
    Vma mapping = new Vma(base, base + (filePages << 12), PteFlags.WRITE, "file", file, 0);
    kernel.mmap(0, mm, mapping.withReadAdvice(advice));
    Writeback writeback = new Writeback(kernel);
    int writers = threads - 1;
    int[] writersDone = new int[1];
    CoreProgram[] programs = new CoreProgram[machine.coreCount()];
    for (int thread = 0; thread < writers; thread++) {
      SplittableRandom random = new SplittableRandom(seed * 31 + thread);
      long firstOffset = ((filePages * thread / writers) << 12);
      programs[thread] =
          new CoreProgram() {
            private long done;
            private boolean started;

            @Override
            public boolean step(int core) {
              if (!started) {
                kernel.switchTo(core, mm);
                started = true;
              }
              if (dontneedEvery > 0 && done > 0 && done % dontneedEvery == 0) {
                long chunk = random.nextLong(filePages / CHUNK_PAGES);
                long start = base + ((chunk * CHUNK_PAGES) << 12);
                kernel.madviseDontneed(core, mm, start, start + (CHUNK_PAGES << 12));
              }
              long offset;
              if (sequential) {
                offset = (firstOffset + done * STORE_BYTES) % (filePages << 12);
              } else if (hotPages > 0 && random.nextLong(100) < hotPercent) {
                offset = random.nextLong(hotPages) << 12;
              } else {
                offset = random.nextLong(filePages) << 12;
              }
              machine.access(core, base + offset, (int) STORE_BYTES, AccessKind.WRITE);
              if (++done == writes) {
                writersDone[0]++;
                return false;
              }
              return true;
            }
          };
    }
    programs[threads - 1] =
        new CoreProgram() {
          private java.util.List<org.mmuemu.kernel.pagecache.CachedPage> pass = java.util.List.of();
          private int next;
          private boolean lastPass;

          @Override
          public boolean step(int core) {
            while (next < pass.size() && !pass.get(next).dirty()) {
              next++;
            }
            if (next < pass.size()) {
              org.mmuemu.kernel.pagecache.CachedPage page = pass.get(next++);
              if (kernel.pageCache().byPfn(page.pfn()) == page) {
                writeback.writePage(core, page);
              }
              return true;
            }
            if (!pass.isEmpty() || lastPass) {
              writeback.reclaim(core, Integer.MAX_VALUE, reclaimMapped);
              if (lastPass) {
                return false;
              }
              machine.charge(core, intervalCycles);
            }
            lastPass = writersDone[0] == writers;
            pass = kernel.pageCache().pages();
            next = 0;
            if (pass.isEmpty() && !lastPass) {
              machine.charge(core, intervalCycles); // nothing cached yet: sleep until the next pass
            }
            return true;
          }
        };
    Map<String, String> effective = new TreeMap<>(params.asMap());
    effective.put("threads", Integer.toString(threads));
    return PreparedWorkload.of(
        programs,
        effective,
        () -> {
          Map<String, Object> metrics = new TreeMap<>();
          metrics.put("pageCachePagesAtEnd", (long) kernel.pageCache().size());
          if (hotPages > 0) {
            long hotCached =
                kernel.pageCache().pages().stream().filter(page -> page.index() < hotPages).count();
            metrics.put("hotPagesCachedAtEnd", hotCached);
          }
          return metrics;
        });
  }
}
